//go:build !linux

package main

func setNonDumpable() {}
