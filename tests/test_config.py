import pytest
import torch
import yaml

from xrec_lib import config as config_module
from xrec_lib.config import load_config, profile_defaults
from xrec_lib.errors import ConfigError


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    (tmp_path / "nb.yaml").write_text(yaml.safe_dump({
        "smoke": {"epochs": 2, "lr": 0.01, "models": ["mf"], "n_seeds": 1},
        "paper": {"epochs": 200, "lr": 0.001, "models": ["mf", "gcn"], "n_seeds": 5},
    }))
    monkeypatch.setattr(config_module, "PROFILE_DIR", tmp_path)
    monkeypatch.delenv("XREC_DATA_DIR", raising=False)
    return tmp_path


def test_profiles_give_their_values_and_seeds(profiles):
    smoke = load_config("nb", "smoke", seed=3)
    paper = load_config("nb", "paper", seed=3)
    assert smoke["epochs"] == 2 and smoke.seeds == (3,)
    assert paper["epochs"] == 200 and paper.seeds == (3, 4, 5, 6, 7)
    assert "n_seeds" not in paper.params


def test_overrides_replace_profile_values(profiles):
    cfg = load_config("nb", "smoke", overrides={"epochs": 7, "lr": 1}, n_seeds=2)
    assert cfg["epochs"] == 7 and cfg["lr"] == 1.0 and isinstance(cfg["lr"], float)
    assert cfg.seeds == (0, 1)


def test_unknown_override_is_named(profiles):
    with pytest.raises(ConfigError, match="unknown parameter 'epoch'.*known: epochs, lr, models"):
        load_config("nb", "smoke", overrides={"epoch": 3})


@pytest.mark.parametrize(("name", "value", "kind"), [("epochs", "many", "int"), ("epochs", True, "int"),
                                                      ("lr", False, "float")])
def test_wrong_type_override_is_refused(profiles, name, value, kind):
    with pytest.raises(ConfigError, match=f"'{name}' expects {kind}"):
        load_config("nb", "smoke", overrides={name: value})


@pytest.mark.parametrize("threads", ["two", "0", "-1"])
def test_bad_thread_count_is_refused(profiles, monkeypatch, threads):
    monkeypatch.setenv("XREC_THREADS", threads)
    with pytest.raises(ConfigError, match=f"threads must be a positive integer.*got '{threads}'"):
        load_config("nb", "smoke")


def test_unknown_profile_and_notebook(profiles):
    with pytest.raises(ConfigError, match="unknown profile 'full'"):
        load_config("nb", "full")
    with pytest.raises(ConfigError, match="unknown notebook 'missing'"):
        profile_defaults("missing", "smoke")


def test_reading_an_unknown_parameter_names_it(profiles):
    cfg = load_config("nb", "smoke")
    with pytest.raises(ConfigError, match="no parameter 'batch'"):
        cfg["batch"]


def test_data_dir_absent_means_none(profiles, tmp_path):
    assert load_config("nb", "smoke").data_dir is None
    assert load_config("nb", "smoke", data_dir=tmp_path / "nowhere").data_dir is None
    assert load_config("nb", "smoke", data_dir=tmp_path).data_dir == tmp_path.resolve()


def test_seeding_makes_draws_repeat(profiles):
    load_config("nb", "smoke", seed=11)
    first = torch.rand(3)
    load_config("nb", "smoke", seed=11)
    assert torch.equal(first, torch.rand(3))


def _keys(values: dict, prefix: str = "") -> set[str]:
    """Every key, nested ones as ``block.key``."""
    return {f"{prefix}{k}" for k in values} | {key for k, v in values.items() if isinstance(v, dict)
                                              for key in _keys(v, f"{prefix}{k}.")}


def test_every_shipped_profile_has_both_profiles_with_the_same_keys():
    for path in sorted(config_module.PROFILE_DIR.glob("*.yaml")):
        smoke, paper = profile_defaults(path.stem, "smoke"), profile_defaults(path.stem, "paper")
        assert _keys(smoke) == _keys(paper), f"{path.name}: {_keys(smoke) ^ _keys(paper)}"
        assert paper.get("n_seeds", 1) >= 5, f"{path.name}: the paper profile needs >= 5 seeds"


def test_profile_defaults_merge_under_each_profile(tmp_path, monkeypatch):
    from xrec_lib import config as config_module
    (tmp_path / "nb.yaml").write_text("defaults:\n  dim: 8\n  amazon: {epochs: 3, lr: 0.1}\n"
                                      "smoke:\n  epochs: 1\n  amazon: {epochs: 1}\npaper:\n  epochs: 5\n")
    monkeypatch.setattr(config_module, "PROFILE_DIR", tmp_path)
    assert config_module.profile_defaults("nb", "smoke") == {"dim": 8, "epochs": 1,
                                                             "amazon": {"epochs": 1, "lr": 0.1}}
    cfg = config_module.load_config("nb", "paper", overrides={"amazon": {"lr": 0.2}})
    assert cfg["amazon"] == {"epochs": 3, "lr": 0.2} and cfg["epochs"] == 5
    with pytest.raises(ConfigError, match="unknown parameter 'epochz'"):
        config_module.load_config("nb", "paper", overrides={"amazon": {"epochz": 1}})


def test_settings_take_fields_and_a_dataset_block():
    from dataclasses import dataclass
    from xrec_lib.config import Settings

    @dataclass(frozen=True)
    class Toy(Settings):
        DATASETS = ("amazon",)
        epochs: int
        dim: int = 4

    params = {"epochs": 5, "amazon": {"epochs": 2}, "n_seeds": 3}
    assert Toy.from_config(params) == Toy(epochs=5)
    assert Toy.from_config(params, "amazon", dim=9) == Toy(epochs=2, dim=9)
    with pytest.raises(ConfigError, match="unknown parameter"):
        Toy.from_config({"epochs": 1, "epoch": 2})
    with pytest.raises(ConfigError, match="lacks"):
        Toy.from_config({"dim": 1})
    with pytest.raises(ConfigError, match="unknown dataset"):
        Toy.from_config(params, "gowalla")


def test_tuned_values_are_laid_over_the_settings_of_their_model():
    from dataclasses import dataclass
    from xrec_lib.config import Settings

    @dataclass(frozen=True)
    class Toy(Settings):
        lr: float
        dropout: float = 0.1

    base = Toy(lr=0.01)
    tuned = {"A": {"lr": 0.003}}
    assert base.for_model("A", tuned) == Toy(lr=0.003) and base.for_model("B", tuned) == base
    assert base.for_model("A", None) == base
    with pytest.raises(ConfigError, match="not settings"):
        base.for_model("A", {"A": {"momentum": 0.9}})
