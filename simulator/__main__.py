"""python -m simulator --port N: serve the Well-Architected simulator on 127.0.0.1 until stopped."""

from __future__ import annotations

import argparse
import sys

from simulator.core import Simulator
from simulator.faults import Faults
from simulator.server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port (default 8787)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--throttle-rps", type=float, default=None, help="requests/s per account and region")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered HTTP 500")
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected errors")
    parser.add_argument("--world", help="world file (JSON) to seed")
    parser.add_argument("--strict", action="store_true", help="the most pessimistic form of every unverified behaviour")
    args = parser.parse_args(argv)
    try:
        sim = Simulator(
            Faults(
                latency_s=args.latency_ms / 1000,
                throttle_rps=args.throttle_rps,
                error_rate=args.error_rate,
                seed=args.seed,
            ),
            strict=args.strict,
        )
        seeded = sim.load_world(args.world) if args.world else {}
    except (ValueError, OSError) as err:
        where = f"world file {args.world}: " if args.world else ""
        print(f"simulator: {where}{err}", file=sys.stderr)
        return 2
    try:
        server = make_server(sim, args.port, args.host)
    except OSError as err:  # the port is in use, or the address cannot be bound
        print(
            f"simulator: cannot listen on {args.host}:{args.port}: {err.strerror or err} "
            "(another simulator may be running; stop it, or pick another port: make simulator PORT=8788)",
            file=sys.stderr,
        )
        return 2
    bound = server.server_address[0]  # the address the socket bound (typed str or bytes)
    host, port = bound if isinstance(bound, str) else bytes(bound).decode(), server.server_port
    print(
        f"Well-Architected simulator{' (strict)' if args.strict else ''} listening on http://{host}:{port} "
        f"(AWS_ENDPOINT_URL_WELLARCHITECTED=http://{host}:{port})",
        flush=True,
    )
    if args.world:
        print(f"world {args.world}: {len(seeded)} share(s) seeded", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
