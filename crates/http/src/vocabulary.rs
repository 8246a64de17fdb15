//! The API's named values, for the OpenAPI document: each enumerates exactly the spellings
//! the API accepts (fields typed as strings in the services are documented with these).

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn code_schema(pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

/// An airline's IATA code, e.g. `BA`.
pub struct CarrierCodeDoc;

impl PartialSchema for CarrierCodeDoc {
    fn schema() -> RefOr<Schema> {
        code_schema("^[A-Za-z0-9]{2}$", "BA")
    }
}
impl ToSchema for CarrierCodeDoc {}

/// An airport or city IATA code, e.g. `LHR` or `LON`.
pub struct PlaceCodeDoc;

impl PartialSchema for PlaceCodeDoc {
    fn schema() -> RefOr<Schema> {
        code_schema("^[A-Za-z]{3}$", "LHR")
    }
}
impl ToSchema for PlaceCodeDoc {}

/// A cabin class.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CabinName {
    Economy,
    PremiumEconomy,
    Business,
    First,
}

/// An airline alliance.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AllianceName {
    StarAlliance,
    Oneworld,
    Skyteam,
}

/// The order of search results (`price` is `cheapest`, `duration` is `fastest`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SearchSort {
    Best,
    Cheapest,
    Fastest,
    Price,
    Duration,
}

/// The order of explore destinations (`price` and `cheapest`, `duration` and `fastest`
/// are the same).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ExploreSort {
    Price,
    Cheapest,
    Duration,
    Fastest,
}

/// How explore groups destinations.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ExploreGrouping {
    Country,
    None,
}
