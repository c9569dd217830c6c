// A Go program reads files with raw system calls, so fpshim must report it as unmonitored.
package main

import "os"

func main() {
	os.ReadDir("/sys/class/net")
	os.ReadFile("/proc/ioports")
}
