"""Test program that runs long enough to be cancelled."""

import time

print("sleeping", flush=True)
time.sleep(120)
