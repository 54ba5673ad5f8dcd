"""Writes a tiny fixture model for slow back-ends (MLX's CPU path):
  python make_tiny_model.py GEMMA_DIR OUT_DIR
A 1-layer Llama (hidden size 64) with Gemma's tokenizer (from GEMMA_DIR, the converted folder)
whose weights are set by hand so that its answer never depends on the prompt: "Hi", then
<eos>. The layer's projections are zero, so the final hidden state is the embedding of the
last token; every token embeds to one vector except "Hi", which embeds to another,
orthogonal one. The LM head maps the first to "Hi" and the second to <eos>, each with a
logit of 24 against 0 for the rest of the vocabulary, so greedy and sampled decoding agree.
A Claude Code round trip then takes seconds. Run by scripts/install-test-deps.sh."""
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
        # RMS 1 each, so the final RMSNorm (weight 1) leaves them as they are.
        v = torch.ones(HIDDEN)
        w = torch.tensor([(-1.0) ** i for i in range(HIDDEN)])
        model.model.embed_tokens.weight[:] = v
        model.model.embed_tokens.weight[hi] = w
        model.model.norm.weight[:] = 1.0
        for layer in model.model.layers:
            layer.input_layernorm.weight[:] = 1.0
            layer.post_attention_layernorm.weight[:] = 1.0
        logit = 24.0
        model.lm_head.weight[hi] = v * logit / HIDDEN
        model.lm_head.weight[eos] = w * logit / HIDDEN
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
