// A tiny freestanding program whose ELF file is a test input for lib/elf:
// functions with known names and sizes, data, bss.

int sample_data = 5;
int sample_bss[1024];

__attribute__((noinline)) int sample_function_one(int x)
{
    return x * 3 + sample_data;
}

__attribute__((noinline)) int sample_function_two(int x)
{
    int sum = 0;
    for (int i = 0; i < x; ++i)
        sum += sample_function_one(i) + sample_bss[i & 1023];
    return sum;
}

void _start(void)
{
    sample_data = sample_function_two(sample_data);
    for (;;) {
    }
}
