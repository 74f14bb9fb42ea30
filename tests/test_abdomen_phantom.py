"""dentpy.data.phantoms.abdomen: seeding, anatomy and the two domains' contrast."""

from __future__ import annotations

import numpy as np

from dentpy.data.phantoms.abdomen import ABDOMEN_TISSUES, make_abdomen, make_abdomen_batch


def test_pure_function_of_seed_index_and_domain() -> None:
    a, b = make_abdomen(3, seed=1), make_abdomen(3, seed=1)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.liver, b.liver)
    assert not np.array_equal(a.liver, make_abdomen(4, seed=1).liver)
    assert not np.array_equal(a.liver, make_abdomen(3, seed=2).liver)
    assert not np.array_equal(a.liver, make_abdomen(3, seed=1, domain="mr").liver)
    images, livers = make_abdomen_batch(3, seed=1, start=2)
    assert images.shape == (3, 1, 64, 64) and images.dtype == np.float32
    np.testing.assert_array_equal(images[1, 0], a.image)
    np.testing.assert_array_equal(livers[1, 0], a.liver.astype(np.float32))


def test_anatomy() -> None:
    for domain in ("ct", "mr"):
        for i in range(10):
            s = make_abdomen(i, domain=domain, size=48)
            assert s.image.shape == (48, 48) and 0 <= s.image.min() and s.image.max() <= 1
            np.testing.assert_array_equal(s.liver, s.labels == ABDOMEN_TISSUES.index("liver"))
            assert 0.03 < s.liver.mean() < 0.3
            assert (s.labels[s.liver] == 3).all() and s.labels[0, 0] == 0
            # the liver lies on the image's left (the patient's right)
            cols = np.nonzero(s.liver)[1]
            assert cols.mean() < 24


def test_domains_differ_in_contrast_not_in_anatomy() -> None:
    """Liver brighter than the spleen in CT, darker in MR: a tissue-wise remap that no
    monotone grey-value map undoes; fat dark in CT and bright in MR."""
    def means(domain: str) -> dict[str, float]:
        out: dict[str, list[float]] = {"liver": [], "spleen": [], "fat": [], "soft tissue": []}
        for i in range(12):
            s = make_abdomen(i, domain=domain)
            for name in out:
                region = s.labels == ABDOMEN_TISSUES.index(name)
                if region.sum() > 20:
                    out[name].append(float(s.image[region].mean()))
        return {k: float(np.mean(v)) for k, v in out.items()}

    ct, mr = means("ct"), means("mr")
    assert ct["liver"] > ct["spleen"] and mr["liver"] < mr["spleen"]
    assert ct["fat"] < ct["soft tissue"] and mr["fat"] > mr["soft tissue"]
