//! Server-rendered HTML for people (login page, error pages, the HTTP-POST
//! binding form) and the cookies the browser carries. No JavaScript is
//! needed except to auto-submit the POST form, which has a button fallback.

pub mod client;
pub mod cookies;
pub mod pages;
pub mod routes;
