package testserver

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// EjabberdEval evaluates Erlang expressions (e.g. `sys:suspend(P), ok.`) on
// this ejabberd node and returns the value printed with ~p. Fault tests use
// it to reach inside the server where no client can: to stall one session's
// process as a loaded server does. Each call boots a small hidden Erlang
// node that does not listen (about 1 s).
func (s *Server) EjabberdEval(exprs string) (string, error) {
	if s.kind != kindEjabberd {
		return "", errors.New("testserver: EjabberdEval on a Prosody server")
	}
	if s.member != nil {
		return "", errors.New("testserver: EjabberdEval on a cluster member")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	eval := fmt.Sprintf(`{ok,T,_} = erl_scan:string(%q), {ok,Es} = erl_parse:parse_exprs(T), `+
		`case rpc:call('%s', erl_eval, exprs, [Es, []], 30000) of {value,V,_} -> io:format("~p~n", [V]), halt(0); E -> io:format("~p~n", [E]), halt(1) end.`,
		exprs, s.ej.node)
	args := append([]string{"-noshell", "-hidden", "-sname", "probe" + randomHex(4),
		"-erl_epmd_port", fmt.Sprint(s.ej.distPort), "-start_epmd", "false", "-dist_listen", "false"},
		s.erlDistArgs()...)
	args = append(args, "-eval", eval)
	cmd := exec.CommandContext(ctx, s.ej.erl, args...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return text, fmt.Errorf("testserver: eval on ejabberd: %w: %s", err, text)
	}
	return text, nil
}
