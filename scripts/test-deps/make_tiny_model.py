"""Writes a tiny fixture model for slow back-ends (MLX's CPU path):
  python make_tiny_model.py GEMMA_DIR OUT_DIR
A 1-layer Llama (hidden size 64) with Gemma's tokenizer (from GEMMA_DIR, the converted folder)
whose weights are set by hand so that its output never depends on the prompt: every token
embeds to the same vector and the layer's projections are zero, so the final hidden state is
that vector at every position. The LM head has only two rows along it: "Hi" (p≈0.6) and <eos>
(p≈0.4). A Claude Code round trip then takes seconds. Run by scripts/install-test-deps.sh."""
import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

HIDDEN = 64


def main(gemma, out):
    tok = AutoTokenizer.from_pretrained(gemma)
    hi = tok.encode("Hi", add_special_tokens=False)
    assert len(hi) == 1, hi
    hi, eos = hi[0], tok.eos_token_id
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
        max_position_embeddings=32768, rms_norm_eps=1e-6, tie_word_embeddings=False,
        bos_token_id=tok.bos_token_id, eos_token_id=eos, pad_token_id=tok.pad_token_id,
        torch_dtype="float16",
    )
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        v = torch.ones(HIDDEN)  # after the final RMSNorm (weight 1): the same vector
        model.model.embed_tokens.weight[:] = v
        model.model.norm.weight[:] = 1.0
        for layer in model.model.layers:
            layer.input_layernorm.weight[:] = 1.0
            layer.post_attention_layernorm.weight[:] = 1.0
        # logit = row · v = 64 * scale; the rest of the vocabulary has logit 0.
        base = 24.0
        model.lm_head.weight[hi] = v * (base + torch.log(torch.tensor(0.6)).item()) / HIDDEN
        model.lm_head.weight[eos] = v * (base + torch.log(torch.tensor(0.4)).item()) / HIDDEN
    model = model.to(torch.float16)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": tok.bos_token_id, "eos_token_id": [eos]}, f, indent=2)
    os.rename(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
