"""Prompts for the SmolLM2 end-to-end checks: chat and plain; English, code, Unicode.

Each must make SmolLM2 write at least 32 tokens before <|im_end|> (the CLI
stops at end of generation), which the test checks.
"""

# (name, text, chat): chat prompts go through the model's ChatML template.
SMOLLM2_PROMPTS = [
    ("chat_capital", "What is the capital of France?", True),
    ("chat_haiku", "Write a haiku about the ocean.", True),
    ("chat_python", "Write a Python function that checks whether a number is prime.", True),
    ("chat_explain", "Explain in two sentences why the sky is blue.", True),
    ("chat_french", "Écris un court paragraphe en français sur la ville de Paris et ses musées.", True),
    ("chat_list", "Give me three tips for learning to cook.", True),
    ("plain_story", "Once upon a time, in a small village by the sea, there lived", False),
    ("plain_code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n", False),
    ("plain_c", "#include <stdio.h>\n\nint main(void) {\n    for (int i = 0; i < 10; ++i) {", False),
    ("plain_facts", "The three largest planets in the solar system are", False),
    ("plain_unicode", "Café, naïve, 東京 and emoji 🚀: a short note about travel.", False),
    ("plain_numbers", "1, 2, 3, 5, 8, 13, 21,", False),
]
