"""Shared test settings: small thread pools so tests stay quick on a 2-core CI machine."""

import torch

torch.set_num_threads(1)
