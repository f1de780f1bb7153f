//! How the process's allocator gives memory back.
//!
//! glibc raises its mmap threshold to the size of each large block freed, up to 32 MiB. After
//! the first sign-in frees its Argon2 buffer (19 MiB), every later one is carved from an arena
//! instead of mapped, and each of the many arenas (eight per core) keeps its high-water mark: the
//! hardening probe saw RSS stay at 250 MB, and the startup benchmark's load at 550 MB, long after
//! the load ended. A fixed threshold keeps large blocks mapped, so freeing them returns them to
//! the system at once, and fewer arenas bound what small allocations can strand. Measured with
//! `examples/startup.rs` (10,000 mixed requests): 552 MB held 5 s after the load without these
//! limits, 127 MB with them; the rest (17 MB idle) is not yet accounted for.

/// Sets the allocator's limits; call before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; it is called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
            libc::mallopt(libc::M_ARENA_MAX, 4);
        }
    }
}
