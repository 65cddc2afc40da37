// Command cmd builds package dual as a plugin.
package main

import (
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm"
	"github.com/iotauthz/iotauthz/plugin/internal/proxywasm/testdata/dual"
)

func init() { proxywasm.SetVMContext(&dual.VM{}) }

func main() {}
