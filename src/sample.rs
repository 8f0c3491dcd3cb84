//! The sample application behind `emit user-registered`: a `Users` table and a User aggregate
//! that records `UserRegistered` when created.

use serde::Serialize;

use crate::app::{Aggregate, DomainEvent, Events, UnitOfWork};
use crate::error::{Error, StoreError};
use crate::model::NewMessage;
use crate::store::Store;

/// The sample's business table. Created by the sample on first use, never by the relay.
pub const USERS_DDL: &str = "CREATE TABLE IF NOT EXISTS Users (
    Id           TEXT NOT NULL PRIMARY KEY,
    Email        TEXT NOT NULL UNIQUE,
    Name         TEXT NULL,
    CreatedOnUtc TEXT NOT NULL
)";

#[derive(Debug, Serialize)]
pub struct UserRegistered {
    pub user_id: String,
    pub email: String,
    pub name: Option<String>,
}

impl DomainEvent for UserRegistered {
    const TYPE: &'static str = "UserRegistered";
}

pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    events: Events,
}

impl User {
    pub fn register(email: String, name: Option<String>) -> Result<Self, Error> {
        if !email.contains('@') || email.trim() != email || email.len() > 320 {
            return Err(Error::usage(format!(
                "invalid email {email:?}: expected something like ada@example.com"
            )));
        }
        let mut user = User {
            id: uuid::Uuid::now_v7().to_string(),
            email,
            name,
            events: Events::default(),
        };
        user.events
            .record(UserRegistered {
                user_id: user.id.clone(),
                email: user.email.clone(),
                name: user.name.clone(),
            })
            .map_err(|e| Error::usage(e.to_string()))?;
        Ok(user)
    }
}

impl Aggregate for User {
    fn events(&mut self) -> &mut Events {
        &mut self.events
    }
}

/// Saves a new user and its UserRegistered message in one transaction.
pub fn save_new_user(store: &mut dyn Store, user: &mut User) -> Result<Vec<NewMessage>, Error> {
    let mut uow = UnitOfWork::begin(store)?;
    uow.execute(USERS_DDL, &[])?;
    let inserted = uow.execute(
        "INSERT INTO Users (Id, Email, Name, CreatedOnUtc) VALUES ($1, $2, $3, $4)",
        &[
            user.id.clone().into(),
            user.email.clone().into(),
            user.name.clone().into(),
            crate::time::format(chrono::Utc::now()).into(),
        ],
    );
    match inserted {
        Err(StoreError::Conflict(_)) => {
            return Err(StoreError::Conflict(format!(
                "a user with email {} already exists; nothing was written",
                user.email
            ))
            .into());
        }
        other => other?,
    };
    uow.save(user);
    Ok(uow.commit()?)
}

/// Registers `count` users, the first with `first` if given and the others with generated
/// emails, each in its own transaction; `saved` is called after each. Returns their messages.
pub fn register_users(
    store: &mut dyn Store,
    count: u64,
    first: Option<User>,
    name: Option<String>,
    saved: &mut dyn FnMut(),
) -> Result<Vec<NewMessage>, Error> {
    let mut emitted = Vec::with_capacity(count.min(100_000) as usize);
    let mut next = first;
    for _ in 0..count {
        let mut user = match next.take() {
            Some(u) => u,
            None => {
                let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
                User::register(format!("user-{tag}@example.com"), name.clone())?
            }
        };
        emitted.extend(save_new_user(store, &mut user)?);
        saved();
    }
    Ok(emitted)
}
