//! Server-rendered HTML for people (login page, error pages, the HTTP-POST
//! binding form, the admin console) and the cookies the browser carries. No
//! JavaScript is needed: the POST form has a button fallback and the
//! console's script only adds copy buttons and confirmations.

pub mod assets;
pub mod client;
pub mod console;
pub mod cookies;
pub mod pages;
pub mod request_id;
pub mod routes;
