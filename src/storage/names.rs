//! The names of a stack's unfinished callbacks, as its warnings list them.

use core::fmt;

use crate::report::name::Name;
use crate::storage::cell::Cell;
use crate::storage::inline::Storage;
use crate::timer::Clock;

/// Lists the names of unfinished callbacks, top of the stack first, as
/// `"a", #1, "b"`.
pub(crate) struct NameList<'e, 'a, R: Clock, C: ?Sized, S: Storage>(
    pub(crate) &'e [Cell<'a, R, C, S>],
);

impl<'e, 'a, R: Clock, C: ?Sized, S: Storage> NameList<'e, 'a, R, C, S> {
    fn names(&self) -> impl Iterator<Item = &'e Name> + use<'e, 'a, R, C, S> {
        self.0
            .iter()
            .rev()
            .filter(|cell| cell.is_pending())
            .map(|cell| &cell.name)
    }
}

impl<R: Clock, C: ?Sized, S: Storage> fmt::Display for NameList<'_, '_, R, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:?}", name)?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl<R: Clock, C: ?Sized, S: Storage> defmt::Format for NameList<'_, '_, R, C, S> {
    fn format(&self, f: defmt::Formatter<'_>) {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                defmt::write!(f, ", ");
            }
            defmt::write!(f, "{:?}", name);
        }
    }
}

impl<R: Clock, C: ?Sized, S: Storage> fmt::Debug for NameList<'_, '_, R, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
