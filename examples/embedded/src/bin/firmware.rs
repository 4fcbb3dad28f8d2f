//! The firmware image: links [`run_script`] (the echo server loop over a scripted socket) into
//! a bare-metal binary for thumbv7em-none-eabihf. There is no `#[global_allocator]`, so the
//! link fails if anything in the loop needs an allocator. On the host this is an ordinary
//! program (the twin) that runs the same script and prints what it wrote.
#![cfg_attr(target_os = "none", no_std, no_main)]

use ws_proto_embedded_example::run_script;

#[cfg(target_os = "none")]
mod bare_metal {
    use super::run_script;

    /// Reset entry: serve the scripted connection, then idle. (A real board's runtime crate,
    /// e.g. cortex-m-rt, provides the vector table and calls into the application instead.)
    #[unsafe(no_mangle)]
    pub extern "C" fn _start() -> ! {
        let mut output = [0u8; 512];
        core::hint::black_box(run_script(&mut output));
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    let mut output = [0u8; 512];
    let n = run_script(&mut output);
    let head = output[..n]
        .split(|&b| b == b'\r')
        .next()
        .unwrap_or_default();
    println!(
        "firmware twin: wrote {n} bytes, starting {:?}",
        String::from_utf8_lossy(head)
    );
    assert!(n > 0, "the scripted connection failed");
}
