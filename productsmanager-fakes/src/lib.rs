//! Local fakes of the external APIs, on 127.0.0.1, following their documented wire formats closely enough that a
//! client that works against them works against the real thing: the same paths, parameters, headers, limits, error
//! bodies. Each fake records what it was asked and can be told to fail.

pub mod creators;
pub mod sp_api;
