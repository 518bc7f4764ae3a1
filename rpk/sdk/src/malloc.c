/* A small thread-safe allocator over AISOS_SYS_MEMORY_MAP.
 *
 * Blocks of 32 B .. 64 KiB (powers of two, header included) come from 1 MiB
 * regions and go back to a free list per size on free; anything larger is
 * its own mapping, unmapped on free. Every pointer handed out has a 16-byte
 * header right before it saying where its block starts and how big it is,
 * which also makes over-aligned blocks (aligned_alloc) free like any other.
 * One mutex: modules allocate little on hot paths (the engine allocates its
 * big buffers once). */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 4096u
#define REGION_SIZE (1u << 20)
#define SMALLEST_SHIFT 5 /* 32-byte blocks */
#define CLASS_COUNT 12   /* 32 B .. 64 KiB */
#define LARGEST_SMALL ((size_t)1 << (SMALLEST_SHIFT + CLASS_COUNT - 1))
#define HEADER_MAGIC 0xa150a110u
#define LARGE_CLASS 0xffffffffu

struct header {
    uint64_t block_size; /* bytes of the block (small) or of the mapping (large) */
    uint32_t offset;     /* from the block's start to the pointer handed out */
    uint32_t class_index; /* LARGE_CLASS for a mapping of its own */
};
_Static_assert(sizeof(struct header) == 16, "the header keeps pointers 16-byte aligned");

struct free_block {
    struct free_block* next;
};

static aisos_mutex_t s_lock = AISOS_MUTEX_INIT;
static struct free_block* s_free[CLASS_COUNT];
static unsigned char* s_region_next;
static size_t s_region_left;

static size_t align_up(size_t value, size_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

/* A block of class index from its free list or the current region. Called with s_lock held. */
static unsigned char* take_small(unsigned index)
{
    size_t size = (size_t)1 << (SMALLEST_SHIFT + index);
    if (s_free[index]) {
        struct free_block* block = s_free[index];
        s_free[index] = block->next;
        return (unsigned char*)block;
    }
    /* Regions are carved in order; a block of size S starts at a multiple of
     * S within the region when possible so over-aligned requests stay cheap. */
    size_t skip = s_region_next ? align_up((uintptr_t)s_region_next, size < PAGE_SIZE ? size : PAGE_SIZE) -
                                      (uintptr_t)s_region_next
                                : 0;
    if (!s_region_next || s_region_left < skip + size) {
        unsigned char* region = aisos_map(REGION_SIZE, NULL);
        if (!region)
            return NULL;
        s_region_next = region;
        s_region_left = REGION_SIZE;
        skip = 0;
    }
    unsigned char* block = s_region_next + skip;
    s_region_next += skip + size;
    s_region_left -= skip + size;
    return block;
}

static void* allocate(size_t size, size_t alignment)
{
    if (alignment < 16)
        alignment = 16;
    /* Room for the header and for moving the pointer up to the alignment. */
    size_t extra = sizeof(struct header) + (alignment - 16);
    if (size > SIZE_MAX / 2 - extra - PAGE_SIZE)
        return NULL;
    size_t need = size + extra;

    unsigned char* block;
    uint64_t block_size;
    uint32_t class_index;
    if (need <= LARGEST_SMALL) {
        unsigned index = 0;
        while (((size_t)1 << (SMALLEST_SHIFT + index)) < need)
            ++index;
        aisos_mutex_lock(&s_lock);
        block = take_small(index);
        aisos_mutex_unlock(&s_lock);
        block_size = (uint64_t)1 << (SMALLEST_SHIFT + index);
        class_index = index;
    } else {
        block_size = align_up(need, PAGE_SIZE);
        block = aisos_map(block_size, NULL);
        class_index = LARGE_CLASS;
    }
    if (!block)
        return NULL;
    unsigned char* pointer = (unsigned char*)align_up((uintptr_t)block + sizeof(struct header), alignment);
    struct header* header = (struct header*)pointer - 1;
    header->block_size = block_size;
    header->offset = (uint32_t)(pointer - block);
    header->class_index = class_index;
    return pointer;
}

static struct header* header_of(void* pointer)
{
    struct header* header = (struct header*)pointer - 1;
    if (header->class_index != LARGE_CLASS && header->class_index >= CLASS_COUNT) {
        aisos_logf("free/realloc of %p: not a block from malloc (or a double free)", pointer);
        abort();
    }
    return header;
}

void* malloc(size_t size) { return allocate(size, 16); }

void* aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) || alignment > PAGE_SIZE)
        return NULL;
    return allocate(size, alignment);
}

void* calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void* pointer = malloc(count * size);
    if (pointer)
        memset(pointer, 0, count * size);
    return pointer;
}

void free(void* pointer)
{
    if (!pointer)
        return;
    struct header* header = header_of(pointer);
    unsigned char* block = (unsigned char*)pointer - header->offset;
    uint32_t class_index = header->class_index;
    uint64_t block_size = header->block_size;
    /* Poison the header so a second free of the same pointer is caught. */
    header->class_index = 0xdeadu;
    if (class_index == LARGE_CLASS) {
        aisos_unmap(block, block_size);
        return;
    }
    struct free_block* free_block = (struct free_block*)block;
    aisos_mutex_lock(&s_lock);
    free_block->next = s_free[class_index];
    s_free[class_index] = free_block;
    aisos_mutex_unlock(&s_lock);
}

void* realloc(void* pointer, size_t size)
{
    if (!pointer)
        return malloc(size);
    if (size == 0) {
        free(pointer);
        return NULL;
    }
    struct header* header = header_of(pointer);
    size_t usable = header->block_size - header->offset;
    if (size <= usable)
        return pointer;
    void* bigger = malloc(size);
    if (!bigger)
        return NULL;
    memcpy(bigger, pointer, usable);
    free(pointer);
    return bigger;
}
