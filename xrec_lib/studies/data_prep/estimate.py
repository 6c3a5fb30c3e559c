"""Up-front time estimate of notebook 00 (:mod:`xrec_lib.estimate`): it trains nothing; its cost is drawing paper
000's synthetic data (one dataset per scenario, for the first seed; cached for the later notebooks). The draw is
timed at :data:`PROBE_SCALE` of the paper's counts and multiplied by the ratio of interactions (cost model:
generation time linear in interactions)."""

from __future__ import annotations

import time

from xrec_lib.config import RunConfig
from xrec_lib.data.synthetic_crossdomain import SyntheticCrossDomainConfig
from xrec_lib.estimate import Estimate, device_label
from xrec_lib.studies.data_prep.study import DataPrepSettings
from xrec_lib.studies.paper000.representation import scaled_synthetic_config
from xrec_lib.studies.paper000.tasks import synthetic_dataset

#: Share of the paper's counts the draw is timed at.
PROBE_SCALE = 0.02


def estimate(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Seconds to draw every scenario's dataset at the profile's scale (``"smoke"`` or ``"paper"`` preset)."""
    settings = DataPrepSettings.from_config(cfg)
    probe = probe_scale or PROBE_SCALE
    seconds = 0.0
    for scenario in settings.scenarios:
        target = getattr(SyntheticCrossDomainConfig, settings.scale)(scenario).n_interactions
        measured = min(probe, target / SyntheticCrossDomainConfig.paper(scenario).n_interactions)
        started = time.perf_counter()
        synthetic_dataset(measured, scenario, cfg.seed)
        factor = target / scaled_synthetic_config(measured, scenario).n_interactions
        seconds += (time.perf_counter() - started) * factor
    return Estimate(cfg.notebook, device_label(cfg.device), [],
                    f"trains nothing: drawing the {settings.scale}-preset synthetic data of "
                    f"{len(settings.scenarios)} scenarios (CPU), timed at scale {probe:g} and multiplied by the "
                    f"ratio of interactions (cost model: linear in interactions); real-data statistics not counted",
                    other_seconds=seconds, upper_bound=False)
