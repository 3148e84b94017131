import sys, json
import tools  # noqa
from bench import throughput
lat, rps, scale, n, cap = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = throughput.sweep_once(n, lat, rps, scale=scale, cap=cap)
print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
