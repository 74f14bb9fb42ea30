"""Phantoms of modalities other than dental radiographs, one module each, seeded like the dental
world (item ``i`` is a pure function of ``(seed, i)``), for the paper chapters that need them."""
