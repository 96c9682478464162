//! Generated settings kept with the data (for example the JWT signing key).

use diesel::prelude::*;

use crate::db::schema::settings;
use crate::db::{DbConn, now};
use crate::error::Error;

/// Returns the stored value of `name`, storing `generate()` first when there is none. When
/// several instances start together, the first write wins and everyone reads it back.
pub fn setting_get_or_create(
    conn: &mut DbConn,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, Error> {
    if let Some(v) = setting_get(conn, name)? {
        return Ok(v);
    }
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::name.eq(name),
            settings::value.eq(generate()),
            settings::created_at.eq(now()),
        ))
        .execute(conn);
    match inserted.map_err(Error::from) {
        Ok(_) | Err(Error::Conflict { .. }) => setting_get(conn, name)?
            .ok_or_else(|| Error::internal(format!("setting {name} vanished"))),
        Err(e) => Err(e),
    }
}

fn setting_get(conn: &mut DbConn, name: &str) -> Result<Option<String>, Error> {
    Ok(settings::table
        .find(name)
        .select(settings::value)
        .first(conn)
        .optional()?)
}
