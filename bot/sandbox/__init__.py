"""The sandbox: a loopback Discord emulator (`emulator`, `state`) and the console that drives it (`console`)."""
