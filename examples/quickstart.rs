//! Quickstart: register cleanups as components come up, run them in reverse
//! when the program stops, and read the report.
//!
//! ```text
//! cargo run --example quickstart
//! ```

#[path = "support/print_logger.rs"]
mod print_logger;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teardown_stack::Teardown;

/// A stand-in for a component that must be released: it takes a little time
/// to close and says when it is done.
struct Component {
    name: &'static str,
    closed: Arc<Mutex<Vec<&'static str>>>,
}

impl Component {
    fn start(name: &'static str, closed: &Arc<Mutex<Vec<&'static str>>>) -> Self {
        println!("started  {name}");
        Component {
            name,
            closed: Arc::clone(closed),
        }
    }

    async fn close(self) -> io::Result<()> {
        smol::Timer::after(Duration::from_millis(20)).await;
        self.closed.lock().unwrap().push(self.name);
        println!("released {}", self.name);
        Ok(())
    }
}

fn main() {
    // The crate logs failures through `log`; print them with the rest.
    print_logger::init(log::LevelFilter::Info);

    let closed = Arc::new(Mutex::new(Vec::new()));
    let mut teardown = Teardown::<8>::new();

    // Bring components up in dependency order, registering each release.
    let store = Component::start("store", &closed);
    teardown.push("store", store.close()).unwrap();

    let llm = Component::start("llm-clients", &closed);
    teardown
        .push_fn("llm-clients", move || llm.close())
        .unwrap();

    let sandboxes = Component::start("sandboxes", &closed);
    teardown
        .push("sandboxes", async move {
            drop(sandboxes); // whatever happens, the handle goes
            Err::<(), _>(io::Error::other("docker daemon not answering"))
        })
        .unwrap();

    let server = Component::start("server", &closed);
    teardown.push("server", server.close()).unwrap();

    let agent = Component::start("agent", &closed);
    teardown.push("agent", agent.close()).unwrap();

    println!("-- serving; now shutting down --");
    let report = smol::block_on(teardown.run());

    println!("-- released in this order: {:?}", closed.lock().unwrap());
    println!("{report}");
    // A service would now exit non-zero unless `report.is_clean()`; this demo
    // staged the failure to show that the other releases still ran.
    assert_eq!(report.len(), 5, "every release ran");
    assert_eq!(report.failed(), 1, "only the staged failure");
}
