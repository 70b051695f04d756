//! A minimal `log` backend for the examples: prints each record with its
//! level, on stdout so it interleaves with the example's own output.

pub struct PrintLogger;

impl log::Log for PrintLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            println!("[{}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger, showing records up to `level`.
pub fn init(level: log::LevelFilter) {
    static LOGGER: PrintLogger = PrintLogger;
    log::set_logger(&LOGGER).expect("the only logger");
    log::set_max_level(level);
}
