"""A password hasher for tests only: Argon2 as in production, with the cost parameters turned down.

Production's parameters cost about a quarter of a second per hash on a small machine, and the suite
creates thousands of users: that alone was several minutes of every run. The hash still says its own
parameters, so a process running production's hasher (the worker, the server in a subprocess) verifies
it, and the code paths are the same.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
