"""aiSOS inference oracle: an independent NumPy reference for the engine's tests.

- weights: read GGUF (gguf package) and HF safetensors into one canonical form
- model:   the float64 forward pass (Llama family, Gemma), greedy decoding
- quants:  ggml block quantizers used to write test models (K-quants packed here)
- vocab:   tokenizers for the tests (SmolLM2's from its GGUF; small SPM-BPE vocabularies)
- tiny:    tiny random-weight Llama and Gemma models in GGUF and safetensors
"""
