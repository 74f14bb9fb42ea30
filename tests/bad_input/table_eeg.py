"""Bad-input rows of the EEG phantom (``dentpy.data.phantoms.eeg``) and the EEG networks
(``dentpy.models.eeg``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad
from dentpy.data.phantoms import eeg as phantom
from dentpy.models import eeg

REC, STUDY, WIN = ("dentpy.data.phantoms.eeg.make_recording",
                   "dentpy.data.phantoms.eeg.make_media_eeg",
                   "dentpy.data.phantoms.eeg.window_recordings")
NET, DEEP, NORM = ("dentpy.models.eeg.EEGNet", "dentpy.models.eeg.DeepConvNet",
                   "dentpy.models.eeg.max_norm_")

ROWS = [
    # ------------------------------------------------------------------ phantom
    bad(REC, "out of range", lambda: phantom.make_recording(-1, 0),
        r"subject must be an integer >= 0"),
    bad(REC, "out of range", lambda: phantom.make_recording(0, 10),
        r"stimulus must be an integer in \[0, 9\]"),
    bad(REC, "not an integer", lambda: phantom.make_recording(0, 0, seed=1.5),
        r"seed must be an integer"),
    bad(REC, "wrong type", lambda: phantom.make_recording(0, 0, sfreq=None),
        r"sfreq must be a finite number"),
    bad(REC, "out of range", lambda: phantom.make_recording(0, 0, sfreq=16.0),
        r"sfreq must be a finite number in \[32"),
    bad(REC, "out of range", lambda: phantom.make_recording(0, 0, shared=1.5),
        r"shared must be a finite number in \[0.0, 1.0\]"),
    bad(REC, "nan or inf", lambda: phantom.make_recording(0, 0, strength=np.nan),
        r"strength must be a finite number"),
    bad(REC, "out of range", lambda: phantom.make_recording(0, 0, n_channels=1),
        r"n_channels must be an integer >= 2"),
    bad(STUDY, "out of range", lambda: phantom.make_media_eeg(2, 1),
        r"n_stimuli must be an integer in \[2, 10\]"),
    bad(STUDY, "unknown option", lambda: phantom.make_media_eeg(2, 2, design="nested"),
        r"design must be one of"),
    bad(STUDY, "unknown option", lambda: phantom.make_media_eeg(2, 2, volume=1.0),
        r"options: unknown \['volume'\]"),
    bad(STUDY, "out of range", lambda: phantom.make_media_eeg(2, 4, design="one_per_subject"),
        r"n_subjects must be an integer >= n_stimuli"),
    bad(WIN, "wrong rank", lambda: phantom.window_recordings(np.zeros((2, 10)), 4),
        r"recordings must be 3-dimensional"),
    bad(WIN, "wrong type", lambda: phantom.window_recordings(None, 4),
        r"recordings must be an array"),
    bad(WIN, "nan or inf", lambda: phantom.window_recordings(np.full((1, 2, 10), np.nan), 5),
        r"recordings must be finite"),
    bad(WIN, "empty", lambda: phantom.window_recordings(np.zeros((0, 2, 10)), 5),
        r"recordings must be non-empty"),
    bad(WIN, "out of range", lambda: phantom.window_recordings(np.zeros((1, 2, 10)), 11),
        r"size must be an integer <= the recording length 10"),
    bad(WIN, "not an integer", lambda: phantom.window_recordings(np.zeros((1, 2, 10)), 2.5),
        r"size must be an integer"),
    # ------------------------------------------------------------------ networks
    bad(NET, "out of range", lambda: eeg.EEGNet(8, 4, 16), r"n_times must be an integer >= "),
    bad(NET, "out of range", lambda: eeg.EEGNet(8, 1, 128), r"n_classes must be an integer >= 2"),
    bad(NET, "not an integer", lambda: eeg.EEGNet(8.0, 4, 128), r"n_channels must be an integer"),
    bad(NET, "out of range", lambda: eeg.EEGNet(8, 4, 128, dropout=1.0),
        r"dropout must be a finite number in \[0.0, 1.0\)"),
    bad(NET, "wrong rank", lambda: eeg.EEGNet(8, 4, 128)(torch.zeros(2, 1, 8, 128)),
        r"x must be 3-dimensional"),
    bad(NET, "mismatched lengths", lambda: eeg.EEGNet(8, 4, 128)(torch.zeros(2, 4, 128)),
        r"x must be a tensor of shape \(B, 8, 128\)"),
    bad(NET, "wrong dtype", lambda: eeg.EEGNet(8, 4, 128)(torch.zeros(2, 8, 128, dtype=torch.long)),
        r"x must be a tensor of float values"),
    bad(DEEP, "out of range", lambda: eeg.DeepConvNet(8, 4, 20), r"n_times must be long enough"),
    bad(DEEP, "empty", lambda: eeg.DeepConvNet(8, 4, 256, widths=()),
        r"widths must be a non-empty"),
    bad(DEEP, "out of range", lambda: eeg.DeepConvNet(8, 4, 256, widths=(8, 0)),
        r"widths must be an integer >= 1"),
    bad(DEEP, "wrong type", lambda: eeg.DeepConvNet(8, 4, 256)(None), r"x must be an array"),
    bad(NORM, "out of range", lambda: eeg.max_norm_(torch.ones(2, 3), 0.0),
        r"max_value must be a finite number > 0"),
    bad(NORM, "wrong rank", lambda: eeg.max_norm_(torch.ones(3), 1.0), r"weight must be"),
    bad(NORM, "wrong type", lambda: eeg.max_norm_([[1.0]], 1.0), r"weight must be"),
]

EXEMPT = {
    "dentpy.data.phantoms.eeg.MediaEEG": "result dataclass of make_media_eeg",
}
