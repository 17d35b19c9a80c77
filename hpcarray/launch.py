"""`hpcarray run`: placeholder until the runtime lands."""


def register(sub):
    p = sub.add_parser("run", help="run a script with hpcarray")
    p.add_argument("script")
    p.set_defaults(func=lambda a: 0)
