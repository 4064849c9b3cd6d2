package redisvault

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// go-redis logs its pool's failures to stderr on its own; authx reports
// them once, as the error of the call that met them (one line, stderr
// carrying nothing else).
func init() { redis.SetLogger(silent{}) }

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}
