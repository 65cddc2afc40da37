package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a FlagSet for one subcommand whose --help prints help (the full explanation,
// written for a person) followed by the flag defaults. Errors go to stderr; --help goes to stdout.
func newFlagSet(name, help string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("iotauthz "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, strings.TrimLeft(help, "\n"))
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags before and after positional arguments ("sign TOKEN --key
// K" and "sign --key K TOKEN" both work; "--" ends the flags). It returns the positional arguments
// and the exit code to use when parsing stopped: -1 to go on, 0 after --help, 2 on an error.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (pos []string, code int) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			// Help goes to stdout: a person who asked for it wants to page or grep it.
			out := fs.Output()
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(out)
			return nil, 0
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), -1 // everything after "--" is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs is parseFlags for a subcommand that takes no positional argument: one is an error
// on the flag set's output. It returns -1 to go on, or the exit code as parseFlags does.
func parseNoArgs(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	pos, code := parseFlags(fs, args, stdout)
	if code >= 0 {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), pos[0])
		return 2
	}
	return -1
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
