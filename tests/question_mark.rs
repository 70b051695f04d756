//! `?` on a registration compiles in the functions users write: returning
//! `Box<dyn Error>` (with or without `Send + Sync`) or `anyhow::Result`, for
//! callbacks that borrow a local and are not `Sync`; the refused callback is
//! dropped unpolled, and the callback can still be taken back instead.

use std::cell::Cell;
use std::error::Error;
use std::pin::pin;

use teardown_stack::{InlineTeardown, LocalInlineTeardown, LocalTeardown, Refused, Teardown};

/// A resource that is neither `Sync` nor `'static`: its close borrows it.
struct Store {
    polled: Cell<bool>,
}

impl Store {
    fn new() -> Self {
        Store {
            polled: Cell::new(false),
        }
    }

    async fn close(&self) -> std::io::Result<()> {
        self.polled.set(true);
        Ok(())
    }
}

/// Each registration kind, through `?`, on a stack with no room.
fn every_kind(store: &Store) -> Result<(), Box<dyn Error>> {
    let close = pin!(store.close()); // outlives the stack that borrows it
    let mut teardown = LocalTeardown::<0>::new();
    let result = (|| -> Result<(), Box<dyn Error>> {
        teardown.push("store", store.close())?;
        Ok(())
    })();
    assert_eq!(
        result.unwrap_err().downcast_ref(),
        Some(&Refused::Full { capacity: 0 })
    );
    let result = (|| -> Result<(), Box<dyn Error>> {
        teardown.push_fn("store", || store.close())?;
        Ok(())
    })();
    assert!(result.is_err());
    let result = (|| -> Result<(), Box<dyn Error>> {
        teardown.push_pinned("store", close)?;
        Ok(())
    })();
    assert!(result.is_err());
    let result = (|| -> Result<(), Box<dyn Error>> {
        teardown.stage().push("store", store.close())?;
        Ok(())
    })();
    assert!(result.is_err());
    Ok(())
}

#[test]
fn into_a_boxed_error_from_a_borrowing_future_that_is_not_sync() {
    let store = Store::new();
    every_kind(&store).unwrap();
    assert!(!store.polled.get(), "a refused callback was polled");
}

#[test]
fn into_a_send_sync_boxed_error_from_a_borrowing_future() {
    fn register<'a>(
        teardown: &mut Teardown<'a, 1>,
        name: &'a str,
    ) -> Result<(), Box<dyn Error + Send + Sync>> {
        let text = name; // borrowed by the future
        teardown.push("log", async move { assert!(!text.is_empty()) })?;
        Ok(())
    }
    fn register_send(teardown: &mut Teardown<'_, 1>) -> Result<(), Box<dyn Error + Send>> {
        teardown.push("again", async {})?;
        Ok(())
    }
    let name = String::from("main");
    let mut teardown = Teardown::<1>::new();
    register(&mut teardown, &name).unwrap();
    let error = register(&mut teardown, &name).unwrap_err();
    assert_eq!(error.to_string(), "teardown stack is full (capacity 1)");
    assert!(register_send(&mut teardown).is_err());
}

#[test]
fn an_inline_error_too() {
    fn register(store: &Store) -> Result<(), Box<dyn Error>> {
        let mut teardown = pin!(LocalInlineTeardown::<1, 8>::new());
        let big = [0_u8; 64];
        teardown.as_mut().try_push_inline("big", async move {
            store.close().await?;
            std::hint::black_box(big);
            Ok::<(), std::io::Error>(())
        })?;
        Ok(())
    }
    let store = Store::new();
    let error = register(&store).unwrap_err();
    assert!(matches!(
        error.downcast_ref(),
        Some(&Refused::DoesNotFit { slot: 8, .. })
    ));
    assert!(!store.polled.get());

    let mut teardown = pin!(InlineTeardown::<0, 8>::new());
    let full = teardown
        .as_mut()
        .try_push_inline("x", async {})
        .unwrap_err();
    assert_eq!(Refused::from(full), Refused::Full { capacity: 0 });
}

#[test]
fn the_callback_can_still_be_taken_back() {
    let store = Store::new();
    let mut teardown = LocalTeardown::<0>::new();
    let full = teardown.push("store", store.close()).unwrap_err();
    assert_eq!(full.capacity(), 0);
    assert_eq!(format!("{full:?}"), "Full { capacity: 0, .. }");
    futures_lite::future::block_on(full.into_inner()).unwrap();
    assert!(store.polled.get());
}

#[cfg(feature = "anyhow")]
#[test]
fn into_anyhow_from_a_borrowing_future_that_is_not_sync() {
    fn register<'a>(teardown: &mut LocalTeardown<'a, 0>, store: &'a Store) -> anyhow::Result<()> {
        teardown.push("store", store.close())?;
        Ok(())
    }
    fn register_inline(store: &Store) -> anyhow::Result<()> {
        let mut teardown = pin!(LocalInlineTeardown::<0, 64>::new());
        teardown.as_mut().try_push_inline("store", store.close())?;
        Ok(())
    }
    let store = Store::new();
    let error = register(&mut LocalTeardown::new(), &store).unwrap_err();
    assert_eq!(error.to_string(), "teardown stack is full (capacity 0)");
    assert_eq!(
        error.downcast_ref::<Refused>(),
        Some(&Refused::Full { capacity: 0 })
    );
    assert!(register_inline(&store).is_err());
    assert!(!store.polled.get());
}
