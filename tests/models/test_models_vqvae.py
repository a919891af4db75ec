"""VQ-VAE: nearest-code quantisation, straight-through gradients, EMA codebook, dead codes, usage."""
import math

import pytest
import torch

from aeviewer.models import build_model, default_config
from aeviewer.models.vqvae import nearest_codes, usage_stats

torch.set_num_threads(1)


def _vq(shape=(1, 8, 8), **kw):
    torch.manual_seed(0)
    kw = {"codebook_size": 16, "code_dim": 4, "channels": (8, 16), **kw}
    return build_model(default_config("vqvae", shape, **kw))


def _images(shape=(1, 8, 8), n=6) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(2))


def test_quantisation_picks_the_nearest_code_by_brute_force():
    g = torch.Generator().manual_seed(0)
    flat, codebook = torch.randn(300, 8, generator=g), torch.randn(40, 8, generator=g)
    brute = torch.tensor([min(range(40), key=lambda k: float(((a - codebook[k]) ** 2).sum())) for a in flat])
    assert torch.equal(nearest_codes(flat, codebook), brute)


@pytest.mark.parametrize(("shape", "grid"), [((1, 28, 28), (7, 7)), ((1, 8, 8), (4, 4))])
def test_grid_shape_and_latent_size_follow_the_image_size(shape, grid):
    model, x = _vq(shape), _images(shape, n=3)
    assert model.code_grid_shape == grid
    assert model.latent_size == 4 * grid[0] * grid[1]
    assert model.encode(x).shape == (3, model.latent_size)
    assert model.encode_codes(x).shape == (3, *grid) and model.encode_codes(x).dtype == torch.long
    assert model.decode(model.encode(x)).shape == (3, *shape)
    assert model.codebook.shape == (16, 4)


def test_encode_gives_codebook_vectors_and_decode_snaps_any_point_to_codes():
    model, x = _vq(), _images()
    z = model.encode(x)
    grid = z.view(len(x), 4, 4, 4).permute(0, 2, 3, 1).reshape(-1, 4)
    codes = model.encode_codes(x).reshape(-1)
    torch.testing.assert_close(grid, model.codebook[codes])
    nudged = z + 1e-4 * torch.randn_like(z)
    torch.testing.assert_close(model.decode(nudged), model.decode(z))
    torch.testing.assert_close(model.decode_codes(model.encode_codes(x)), model.decode(z))
    images = model.decode(z).detach()
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0


@pytest.mark.parametrize("ema", [True, False])
def test_straight_through_passes_decoder_gradients_to_the_encoder(ema):
    model, x = _vq(ema=ema, commitment=0.0), _images()
    seen = {}

    def keep(name):
        def hook(module, inputs, output=None):
            tensor = output if output is not None else inputs[0]
            tensor.retain_grad()
            seen[name] = tensor
        return hook

    model.encoder.register_forward_hook(keep("z_e"))
    model.decoder.register_forward_pre_hook(keep("z_q"))
    model.loss(x, x)["recon"].backward()
    assert seen["z_e"].grad.abs().sum() > 0
    torch.testing.assert_close(seen["z_e"].grad, seen["z_q"].grad)  # identity in the backward pass
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_codebook_and_commitment_terms_without_ema():
    model, x = _vq(ema=False), _images()
    terms = model.loss(x, x)
    z_e = model.encoder(x).detach()
    e = model.encode(x).view_as(z_e)
    squared = float(((z_e - e) ** 2).flatten(1).sum(1).mean())  # ||z_e - e||^2 per image
    assert float(terms["codebook"].detach()) == pytest.approx(squared, rel=1e-4)
    assert float(terms["commitment"].detach()) == pytest.approx(0.25 * squared, rel=1e-4)
    torch.testing.assert_close(terms["total"], terms["recon"] + terms["codebook"] + terms["commitment"])
    terms["codebook"].backward()  # sg[z_e]: the codebook term moves only the codes
    assert model.embedding.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.encoder.parameters())


def test_ema_mode_reports_a_zero_codebook_term_and_trains_codes_without_gradients():
    model = _vq(ema=True)
    assert float(model.loss(_images(), _images())["codebook"]) == 0.0
    assert not model.embedding.requires_grad


def test_ema_update_matches_a_hand_computation():
    model = _vq(codebook_size=3, code_dim=2, ema=True, ema_decay=0.9)
    with torch.no_grad():
        model.embedding.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [4.0, 0.0]]))
        model.ema_sum.copy_(model.embedding)
        model.ema_count.fill_(1.0)
    flat = torch.tensor([[0.2, 0.0], [0.0, 0.4], [1.0, 2.0]])
    model.update_codebook(flat, torch.tensor([0, 0, 1]))
    # N = 0.9*1 + 0.1*[2, 1, 0] = [1.1, 1.0, 0.9]; m_0 = 0.1*(0.2, 0.4); m_1 = 0.9*(1, 1) + 0.1*(1, 2); m_2 = 0.9*(4, 0)
    torch.testing.assert_close(model.ema_count, torch.tensor([1.1, 1.0, 0.9]))
    expected = torch.tensor([[0.02 / 1.1, 0.04 / 1.1], [1.0, 1.1], [4.0, 0.0]])
    torch.testing.assert_close(model.embedding, expected, atol=1e-4, rtol=0)  # Laplace smoothing shifts it by ~1e-5
    torch.testing.assert_close(model.epoch_counts, torch.tensor([2.0, 1.0, 0.0]))


@pytest.mark.parametrize("ema", [True, False])
def test_dead_codes_restart_on_recent_encoder_outputs(ema):
    model = _vq(codebook_size=8, code_dim=2, ema=ema)
    with torch.no_grad():
        model.embedding.copy_(torch.arange(8.0)[:, None].expand(8, 2))
        model.ema_count.fill_(5.0)
        model.ema_count[5] = 0.0  # code 5 has not been used for a long time
        if ema:
            model.ema_sum.copy_(model.embedding * 5.0)
    flat = torch.tensor([[0.1, 0.1], [0.2, 0.2], [0.9, 1.0]]) + 100.0
    model.update_codebook(flat, torch.tensor([0, 0, 1]))
    assert any(torch.equal(model.embedding[5], row) for row in flat)
    assert torch.all(model.embedding[[2, 3, 4, 6, 7]] < 10)  # live codes stay


def test_training_counts_code_usage_per_epoch():
    model, x = _vq(), _images()
    opts = model.make_optimizers(1e-3)
    model.on_epoch_start()
    for _ in range(3):
        model.train_step(x, x, opts)
    assert float(model.epoch_counts.sum()) == 3 * 6 * 16
    stats = model.epoch_stats()
    assert 1.0 <= stats["perplexity"] <= 16.0 and 0.0 < stats["codes_used_frac"] <= 1.0
    model.on_epoch_start()
    assert model.epoch_stats() == {"perplexity": 0.0, "codes_used_frac": 0.0}


def test_usage_stats_perplexity_and_fraction():
    stats = usage_stats(torch.tensor([5.0, 5.0, 0.0, 0.0]))
    assert stats["perplexity"] == pytest.approx(2.0) and stats["codes_used_frac"] == 0.5
    skewed = usage_stats(torch.tensor([3.0, 1.0]))
    assert skewed["perplexity"] == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))


def test_usage_text_names_what_the_codes_were_counted_on():
    from aeviewer.models.vqvae import usage_text

    stats = usage_stats(torch.tensor([5.0, 5.0, 0.0, 0.0]))
    assert usage_text(stats, 4, "test split") == "test split: 2/4 codes in use, perplexity 2.0"


def test_an_epoch_line_gives_the_code_usage_of_its_training_batches_as_the_codebook_gives_the_test_splits():
    """One formula (usage_stats) and one phrase (usage_text) for both figures; each names its images."""
    from aeviewer.models.vqvae import usage_text
    from aeviewer.training.trainer import terms_text

    stats = usage_stats(torch.tensor([3.0, 1.0, 0.0, 4.0]))
    line = terms_text({"recon": 12.5}, stats, codebook_size=4)
    assert line == "recon 12.5  · " + usage_text(stats, 4, "this epoch's training batches")
    assert "this epoch's training batches: 3/4 codes in use, perplexity" in line and "codes_used_frac" not in line
    assert terms_text({"recon": 12.5}, {}, codebook_size=None) == "recon 12.5"  # other kinds: as before
