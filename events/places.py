"""The campus gazetteer: WashU places with approximate coordinates.

One list for the demo data, the "near a place" search and the geocoder's fallback when no
Google key is set. Coordinates are approximate (read off a campus map, good to roughly
50-100 m): enough for "within 1 km", not for navigation.
"""

import math
from dataclasses import dataclass

WASHU_ADDRESS = "1 Brookings Dr, St. Louis, MO 63130"
SOUTH_40_ADDRESS = "6515 Wydown Blvd, St. Louis, MO 63105"
MEDICAL_CAMPUS_ADDRESS = "660 S Euclid Ave, St. Louis, MO 63110"
EARTH_RADIUS_M = 6_371_000


@dataclass(frozen=True)
class Place:
    key: str
    name: str
    latitude: float
    longitude: float
    address: str = WASHU_ADDRESS


CAMPUS_PLACES: dict[str, Place] = {
    place.key: place
    for place in [
        Place("brookings", "Brookings Hall", 38.6479, -90.3049),
        Place("graham-chapel", "Graham Chapel", 38.6485, -90.3082),
        Place("olin-library", "Olin Library", 38.6482, -90.3077),
        Place("duc-tisch", "Danforth University Center, Tisch Commons", 38.6473, -90.3105),
        Place("duc-goldberg", "Danforth University Center, Goldberg Lounge", 38.6474, -90.3103),
        Place("edison", "Mallinckrodt Center, Edison Theatre", 38.6470, -90.3094),
        Place("mallinckrodt", "Mallinckrodt Center, Multipurpose Room", 38.6471, -90.3091),
        Place("simon", "Simon Hall", 38.6497, -90.3113),
        Place("knight-bauer", "Knight & Bauer Halls", 38.6500, -90.3120),
        Place("seigle", "Seigle Hall", 38.6490, -90.3131),
        Place("eads", "Eads Hall", 38.6488, -90.3062),
        Place("louderman", "Louderman Hall", 38.6497, -90.3066),
        Place("wilson", "Wilson Hall", 38.6486, -90.3057),
        Place("busch", "Busch Hall", 38.6482, -90.3063),
        Place("rudolph", "Rudolph Hall", 38.6492, -90.3027),
        Place("january", "January Hall", 38.6476, -90.3068),
        Place("mckelvey", "McKelvey Hall", 38.6493, -90.3035),
        Place("jubel", "Jubel Hall", 38.6496, -90.3031),
        Place("whitaker", "Whitaker Hall", 38.6489, -90.3029),
        Place("lopata", "Lopata Hall", 38.6495, -90.3042),
        Place("urbauer", "Urbauer Hall", 38.6491, -90.3044),
        Place("anheuser-busch", "Anheuser-Busch Hall", 38.6486, -90.3124),
        Place("hillman", "Hillman Hall", 38.6480, -90.3136),
        Place("kemper", "Mildred Lane Kemper Art Museum", 38.6470, -90.3024),
        Place("steinberg", "Steinberg Hall Auditorium", 38.6468, -90.3031),
        Place("sumers", "Sumers Recreation Center", 38.6468, -90.3138),
        Place("field-house", "Athletic Complex, Field House", 38.6470, -90.3130),
        Place("francis-field", "Francis Field", 38.6462, -90.3127),
        Place("holmes", "Holmes Lounge, Ridgley Hall", 38.6480, -90.3066),
        Place("bears-den", "Bear's Den, South 40", 38.6453, -90.3120, SOUTH_40_ADDRESS),
        Place("south-40-swamp", "The Swamp, South 40", 38.6455, -90.3110, SOUTH_40_ADDRESS),
        Place("mudd-field", "Mudd Field", 38.6478, -90.3081),
        Place("bowles-plaza", "Bowles Plaza", 38.6476, -90.3099),
        Place("tietjens", "Tietjens Hall", 38.6467, -90.3112),
        Place("umrath", "Umrath Lounge", 38.6476, -90.3093),
        Place("brown-hall", "Brown Hall", 38.6493, -90.3096),
        Place("the-village", "The Village", 38.6508, -90.3144),
        Place("south-40", "South 40", 38.6440, -90.3130, SOUTH_40_ADDRESS),
        Place("medical-campus", "Medical Campus", 38.6360, -90.2630, MEDICAL_CAMPUS_ADDRESS),
    ]
}


def place_find(text: str) -> Place | None:
    """A place by key ("olin-library") or by name, ignoring case; None when unknown."""
    key = text.strip().lower()
    if key in CAMPUS_PLACES:
        return CAMPUS_PLACES[key]
    return next((place for place in CAMPUS_PLACES.values() if place.name.lower() == key), None)


def distance_m(latitude: float, longitude: float, to_latitude: float, to_longitude: float) -> float:
    """Metres between two points on the earth's surface (haversine; plenty for a campus)."""
    phi1, phi2 = math.radians(latitude), math.radians(to_latitude)
    d_phi = phi2 - phi1
    d_lambda = math.radians(to_longitude - longitude)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))
