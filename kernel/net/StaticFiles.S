// Files the kernel serves, embedded at build time (see kernel/net/StaticFiles.h).
.section .rodata.static_files, "a"
.balign 16
.global static_chat_page_start
static_chat_page_start:
    .incbin "static/ai_chat_ws.html"
.global static_chat_page_end
static_chat_page_end:
