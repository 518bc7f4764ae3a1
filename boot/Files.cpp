#include "boot/Files.h"

#include "boot/Bytes.h"

namespace aisos::boot {

namespace {

Error error_for_status(efi::Status status, const char* fallback)
{
    switch (status) {
    case efi::not_found:
        return Error::not_found("file not found");
    case efi::out_of_resources:
        return Error::no_memory();
    case efi::device_error:
    case efi::no_media:
        return Error { ErrorCode::IoError, "device error while reading the boot volume" };
    case efi::volume_corrupted:
        return Error::corrupt("the boot volume's file system is corrupted");
    case efi::access_denied:
        return Error { ErrorCode::PermissionDenied, "access denied by the firmware" };
    default:
        return Error { ErrorCode::IoError, fallback };
    }
}

// Closes a firmware file handle when the scope ends, on every path.
class FileCloser {
public:
    explicit FileCloser(efi::FileProtocol* file)
        : m_file(file)
    {
    }
    ~FileCloser() { m_file->close(m_file); }
    FileCloser(const FileCloser&) = delete;
    FileCloser& operator=(const FileCloser&) = delete;

private:
    efi::FileProtocol* m_file;
};

} // namespace

Result<efi::FileProtocol*> open_boot_volume(efi::SystemTable* system_table, efi::Handle image)
{
    efi::BootServices* services = system_table->boot_services;
    void* interface = nullptr;
    efi::Status status = services->handle_protocol(image, &efi::loaded_image_protocol_guid, &interface);
    if (efi::is_error(status) || interface == nullptr)
        return Error::unsupported("firmware gives no LoadedImage protocol for the loader");
    auto* loaded_image = static_cast<efi::LoadedImageProtocol*>(interface);

    interface = nullptr;
    status = services->handle_protocol(loaded_image->device_handle, &efi::simple_file_system_protocol_guid, &interface);
    if (efi::is_error(status) || interface == nullptr)
        return Error::unsupported("the loader's device has no file system the firmware can read");
    auto* file_system = static_cast<efi::SimpleFileSystemProtocol*>(interface);

    efi::FileProtocol* root = nullptr;
    status = file_system->open_volume(file_system, &root);
    if (efi::is_error(status) || root == nullptr)
        return error_for_status(status, "cannot open the boot volume");
    return root;
}

Result<uint64_t> allocate_loader_pages(efi::SystemTable* system_table, uint64_t pages)
{
    efi::PhysicalAddress address = 0;
    efi::Status status = system_table->boot_services->allocate_pages(efi::AllocateType::AnyPages, efi::MemoryType::LoaderData, pages, &address);
    if (efi::is_error(status))
        return Error::no_memory();
    fill_bytes(reinterpret_cast<void*>(address), 0, pages * 4096);
    return address;
}

Result<LoadedFile> load_file(efi::SystemTable* system_table, efi::FileProtocol* root, const char16_t* path, uint64_t max_size)
{
    efi::FileProtocol* file = nullptr;
    efi::Status status = root->open(root, &file, path, efi::file_mode_read, 0);
    if (efi::is_error(status) || file == nullptr)
        return error_for_status(status, "cannot open the file");
    FileCloser closer(file);

    // EFI_FILE_INFO plus a file name; our names are short, 1 KiB is plenty.
    alignas(8) uint8_t info_buffer[1024];
    uint64_t info_size = sizeof(info_buffer);
    status = file->get_info(file, &efi::file_info_guid, &info_size, info_buffer);
    if (efi::is_error(status))
        return error_for_status(status, "cannot read the file's size");
    efi::FileInfo info;
    copy_bytes(&info, info_buffer, sizeof(info));
    if (info.attribute & efi::file_attribute_directory)
        return Error::invalid("is a directory, not a file");
    if (info.file_size > max_size)
        return Error { ErrorCode::OutOfRange, "file is larger than the loader accepts" };

    LoadedFile loaded { .base = 0, .size = info.file_size };
    if (info.file_size == 0)
        return loaded;

    uint64_t pages = (info.file_size + 4095) / 4096;
    loaded.base = TRY(allocate_loader_pages(system_table, pages));

    uint64_t done = 0;
    while (done < info.file_size) {
        uint64_t chunk = info.file_size - done;
        status = file->read(file, &chunk, reinterpret_cast<uint8_t*>(loaded.base) + done);
        if (efi::is_error(status)) {
            system_table->boot_services->free_pages(loaded.base, pages);
            return error_for_status(status, "read error");
        }
        if (chunk == 0) {
            system_table->boot_services->free_pages(loaded.base, pages);
            return Error { ErrorCode::IoError, "file ended before its recorded size" };
        }
        done += chunk;
    }
    return loaded;
}

} // namespace aisos::boot
