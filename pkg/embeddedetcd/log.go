/*
Copyright The kruise-apiserver Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package embeddedetcd

import (
	"fmt"

	"go.etcd.io/etcd/client/pkg/v3/logutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Messages etcd logs at warn level or above on every start, although they do
// not apply here: one port for gRPC and HTTP is deliberate (loopback, mutual
// TLS, no HTTP clients), and etcd authentication, which the simple token is
// for, is never enabled.
var droppedAlways = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
}

// Messages etcd logs, some at error level with a stack trace, when its own
// listeners are closed during a requested shutdown. Outside a shutdown they
// are real failures and are kept.
var droppedWhileStopping = map[string]bool{
	"setting up serving from embedded etcd failed.": true,
	"stopping secure grpc server due to error":      true,
	"stopped secure grpc server due to error":       true,
	"failed to update cluster version":              true,
}

// newLogger returns the logger for etcd: cfg.Logger, or one in etcd's own
// format on stderr at cfg.LogLevel, either way without the noise above.
// Matching on message text can only fail towards logging too much after an
// etcd upgrade changes a message.
func newLogger(cfg Config, stopping <-chan struct{}) (*zap.Logger, error) {
	lg := cfg.Logger
	if lg == nil {
		// Parsed here because etcd panics on an unknown level.
		level, err := zapcore.ParseLevel(cfg.LogLevel)
		if err != nil {
			return nil, fmt.Errorf("embedded etcd: invalid log level: %w", err)
		}
		if lg, err = logutil.CreateDefaultZapLogger(level); err != nil {
			return nil, fmt.Errorf("embedded etcd: creating logger: %w", err)
		}
	}
	return lg.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &quietCore{Core: c, stopping: stopping}
	})), nil
}

type quietCore struct {
	zapcore.Core
	stopping <-chan struct{}
}

func (c *quietCore) With(fields []zapcore.Field) zapcore.Core {
	return &quietCore{Core: c.Core.With(fields), stopping: c.stopping}
}

func (c *quietCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if droppedAlways[ent.Message] {
		return ce
	}
	if droppedWhileStopping[ent.Message] {
		select {
		case <-c.stopping:
			return ce
		default:
		}
	}
	return c.Core.Check(ent, ce)
}
