// gosu USER COMMAND [ARG...]: runs COMMAND as USER (a name from /etc/passwd or a uid), with that user's group and
// no supplementary groups, replacing this process, as the official postgres and redis images' gosu does. busybox's
// setpriv cannot change users, and Debian's lives in util-linux, a large package for one program.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

func lookup(user string) (uid, gid int, home string, err error) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return 0, 0, "", err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), ":")
		if len(fields) < 6 || (fields[0] != user && fields[2] != user) {
			continue
		}
		uid, _ = strconv.Atoi(fields[2])
		gid, _ = strconv.Atoi(fields[3])
		return uid, gid, fields[5], nil
	}
	if n, convErr := strconv.Atoi(user); convErr == nil {
		return n, n, "/", nil
	}
	return 0, 0, "", fmt.Errorf("no user %q in /etc/passwd", user)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gosu USER COMMAND [ARG...]")
		os.Exit(2)
	}
	uid, gid, home, err := lookup(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosu:", err)
		os.Exit(1)
	}
	path, err := exec.LookPath(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosu:", err)
		os.Exit(1)
	}
	if err := syscall.Setgroups([]int{}); err != nil {
		fmt.Fprintln(os.Stderr, "gosu: setgroups:", err)
		os.Exit(1)
	}
	if err := syscall.Setgid(gid); err != nil {
		fmt.Fprintln(os.Stderr, "gosu: setgid:", err)
		os.Exit(1)
	}
	if err := syscall.Setuid(uid); err != nil {
		fmt.Fprintln(os.Stderr, "gosu: setuid:", err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	if err := syscall.Exec(path, os.Args[2:], os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "gosu: exec:", err)
		os.Exit(1)
	}
}
