# SPDX-License-Identifier: MIT
"""llm-prefill-decode: a Qwen2-shaped causal LM (~1.5B parameters, random
bf16 weights) loaded from safetensors, one 4096-token prefill, then greedy
decoding at batch 1 and at batch 8.

  python3 llm.py prepare   write the model to /tmp/pvdma-qwen (not traced)
  python3 llm.py run       load it onto the GPU and run the phases
"""
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM, Qwen2Config

from marker import phase

PATH = os.environ.get('PVDMA_LLM_PATH', '/tmp/pvdma-qwen')
NEW_TOKENS = 48


def config():
    # The shape of Qwen2.5-1.5B: 28 layers, GQA with 2 KV heads.
    return Qwen2Config(hidden_size=1536, intermediate_size=8960,
                       num_hidden_layers=28, num_attention_heads=12,
                       num_key_value_heads=2, vocab_size=151936,
                       max_position_embeddings=32768,
                       tie_word_embeddings=True)


def prepare():
    if os.path.exists(os.path.join(PATH, 'config.json')):
        return
    torch.manual_seed(0)
    with torch.device('meta'):
        model = AutoModelForCausalLM.from_config(config(), dtype=torch.bfloat16)
    model = model.to_empty(device='cpu')
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    n = sum(p.numel() for p in model.parameters())
    model.save_pretrained(PATH, safe_serialization=True)
    print('saved %.2fB parameters to %s' % (n / 1e9, PATH), flush=True)


def timed(label, fn):
    t0 = time.time()
    r = fn()
    torch.cuda.synchronize()
    print('%s: %.3f s' % (label, time.time() - t0), flush=True)
    return r


def run():
    phase('init')
    torch.zeros(1, device='cuda')
    phase('load')
    model = timed('load', lambda: AutoModelForCausalLM.from_pretrained(
        PATH, dtype=torch.bfloat16, device_map='cuda'))
    model.eval()
    gen = dict(do_sample=False, max_new_tokens=NEW_TOKENS,
               min_new_tokens=NEW_TOKENS, pad_token_id=0)
    with torch.inference_mode():
        ids = torch.randint(0, 150000, (1, 4096), device='cuda')
        phase('prefill_4k')
        timed('prefill 4096 tokens', lambda: model(ids, logits_to_keep=1))
        phase('decode_b1')
        timed('decode batch 1, %d tokens' % NEW_TOKENS,
              lambda: model.generate(ids, **gen))
        phase('decode_b8')
        ids8 = torch.randint(0, 150000, (8, 512), device='cuda')
        out = timed('decode batch 8, %d tokens' % NEW_TOKENS,
                    lambda: model.generate(ids8, **gen))
        phase('to_host')
        for row in out:
            row.tolist()
    phase('free')
    del model
    torch.cuda.empty_cache()
    phase('end')


if __name__ == '__main__':
    {'prepare': prepare, 'run': run}[sys.argv[1]]()
