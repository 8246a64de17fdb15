// Names for the wire types the app uses: each is the generated type of the OpenAPI document
// (schema.d.ts), never a copy of it.

import type { paths } from "./schema";
import type { Schemas } from "./client";

export type Price = Schemas["Price"];
export type Moment = Schemas["Moment"];
export type Segment = Schemas["Segment"];
export type Slice = Schemas["SliceDto"];
export type Itinerary = Schemas["ItineraryDto"];
export type Facets = Schemas["Facets"];
export type FacetValue = Schemas["FacetValue"];
export type SearchResponse = Schemas["SearchResponse"];
export type SearchBody = Schemas["SearchBody"];
export type SearchQuery = NonNullable<paths["/api/v1/search"]["get"]["parameters"]["query"]>;
export type CalendarQuery = NonNullable<paths["/api/v1/calendar"]["get"]["parameters"]["query"]>;
export type CalendarResponse = Schemas["CalendarResponse"];
export type CalendarDay = Schemas["CalendarDay"];
export type CalendarCell = Schemas["CalendarCell"];
export type ExploreQuery = NonNullable<paths["/api/v1/explore"]["get"]["parameters"]["query"]>;
export type ExploreResponse = Schemas["ExploreResponse"];
export type ExploreDestination = Schemas["ExploreDestination"];
export type Place = Schemas["AirportDto"];
export type Ready = Schemas["Ready"];
export type Profile = Schemas["ProfileDto"];
export type Preferences = Schemas["Preferences"];
export type SessionInfo = Schemas["SessionDto"];
export type TokenResponse = Schemas["TokenResponse"];
export type SecondFactorChallenge = Schemas["SecondFactorChallenge"];
export type TwoFactorStatus = Schemas["TwoFactorStatusDto"];
export type TwoFactorSetup = Schemas["TwoFactorSetupDto"];
export type Consents = Schemas["ConsentsDto"];
export type CabinName = Schemas["CabinName"];
export type LiveSearchBody = Schemas["LiveSearchBody"];
export type LiveSearchResponse = Schemas["LiveSearchResponse"];
export type LiveItinerary = Schemas["LiveItinerary"];
export type LiveProvider = Schemas["LiveProvider"];
export type LivePrice = Schemas["LivePrice"];
