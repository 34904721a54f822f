"""Care sweeps: birthday and holiday care tasks (关怀)."""
