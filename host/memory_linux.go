package host

import "syscall"

// mapNoReserve: the reservation commits no swap; pages count when touched.
const mapNoReserve = syscall.MAP_NORESERVE
