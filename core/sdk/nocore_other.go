//go:build !linux

package sdk

func setNonDumpable() {}
