"""Word lists the demo generator draws from: names, US places, products, browsers.

The lists are data, kept as compact text tables and parsed once at import, so the module stays
readable and ruff does not explode them into one element per line. Everything here is clean: the
messy variants (odd case, stray whitespace, spelled-out states) are derived from it in
:mod:`sluiceway.demo.defects`.

Invariants the tests rely on: first and last names match ``[A-Z][a-z]+``; a city name occurs in
one state only; zip ranges stay inside their state's real prefix, so leading zeros occur (New
England, New Jersey).
"""

from __future__ import annotations

from dataclasses import dataclass

from sluiceway.core.us_states import BY_CODE


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words of a text block (keeps long word lists compact)."""
    return tuple(text.split())


FIRST_NAMES: tuple[str, ...] = _words(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy
    Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
    Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy
    Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy Jacob Amy
    Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin
    Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra
    Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry
    Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary
    Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn
    Christian Hannah Walter Andrea Keith Megan Austin Cheryl Roger Jacqueline Terry Madison Sean
    Teresa Gerald Abigail Carl Sophia Dylan Martha Harold Sara Jordan Gloria Jesse Janice Bryan
    Kathryn Lawrence Ann Arthur Isabella Gabriel Judy Bruce Charlotte Logan Julia Billy Grace
    Joe Amber Alan Alice Juan Jean Elijah Denise Willie Frances Albert Danielle Wayne Marilyn
    Randy Natalie Mason Beverly Vincent Diana Liam Brittany Roy Theresa Bobby Kayla Caleb Alexis
    Bradley Doris Russell Lori Lucas Tiffany Priya Wei Mohammed Fatima Hiroshi Yuki Carlos Sofia
    Mateo Lucia Diego Valentina Andre Aisha Omar Leila Raj Ananya Minh Linh Kwame Amara Ivan
    Olga
    """
)

LAST_NAMES: tuple[str, ...] = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
    Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
    Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
    Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
    Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
    Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
    Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera
    Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison
    Fernandez Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns
    Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt
    Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer
    Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant
    Dunn Kowalski Nowak Yamamoto Tanaka Singh Shah Okafor Mensah Haddad Rossi Bianchi Dubois
    Novak
    """
)

# Free-mail providers dominate real sign-ups; the weights are rough market shares.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 45.0),
    ("yahoo.com", 12.0),
    ("outlook.com", 9.0),
    ("hotmail.com", 8.0),
    ("icloud.com", 8.0),
    ("aol.com", 3.0),
    ("proton.me", 2.0),
    ("comcast.net", 3.0),
    ("att.net", 2.0),
    ("example.org", 2.0),
    ("mail.com", 2.0),
    ("fastmail.com", 1.0),
    ("acme-corp.com", 1.5),
    ("globex.io", 1.5),
)


@dataclass(frozen=True, slots=True)
class City:
    """A city and the zip codes it may receive (inclusive range)."""

    name: str
    zip_lo: int
    zip_hi: int


@dataclass(frozen=True, slots=True)
class State:
    """A US state (or DC): its code, names, rough population weight, area codes and cities."""

    code: str
    name: str
    ap_abbr: str | None
    weight: float
    area_codes: tuple[int, ...]
    cities: tuple[City, ...]


# code | population (millions) | area codes, then indented lines of "city:first zip-last zip"
# separated by semicolons. Names and AP abbreviations come from sluiceway.core.us_states.
_STATES_TABLE = """
AL|5.0|205 256
    Birmingham:35203-35244;Montgomery:36104-36117;Huntsville:35801-35816
AK|0.7|907
    Anchorage:99501-99524;Fairbanks:99701-99709;Juneau:99801-99803
AZ|7.2|602 480 520
    Phoenix:85003-85054;Tucson:85701-85756;Mesa:85201-85215
AR|3.0|501 479
    Little Rock:72201-72227;Fayetteville:72701-72704;Fort Smith:72901-72916
CA|39.5|213 415 619 916 408
    Los Angeles:90001-90089;San Francisco:94102-94134;San Diego:92101-92154
    Sacramento:95811-95838;San Jose:95110-95139;Fresno:93701-93730
CO|5.8|303 719
    Denver:80202-80239;Colorado Springs:80903-80925;Boulder:80301-80305
CT|3.6|860 203
    Hartford:06103-06120;New Haven:06510-06519;Stamford:06901-06907
DE|1.0|302
    Wilmington:19801-19810;Dover:19901-19904;Lewes:19958-19958
DC|0.7|202
    Washington:20001-20037
FL|21.5|305 407 813 904 850
    Miami:33125-33199;Orlando:32801-32839;Tampa:33602-33629;Jacksonville:32202-32258
    Tallahassee:32301-32317
GA|10.7|404 912
    Atlanta:30303-30349;Savannah:31401-31419;Augusta:30901-30909;Athens:30601-30607
HI|1.5|808
    Honolulu:96813-96826;Hilo:96720-96721
ID|1.8|208
    Boise:83702-83716;Idaho Falls:83401-83406;Pocatello:83201-83209
IL|12.8|312 217 309
    Chicago:60601-60661;Springfield:62701-62712;Naperville:60540-60565;Peoria:61602-61615
IN|6.8|317 260 812
    Indianapolis:46201-46260;Fort Wayne:46802-46835;Bloomington:47401-47408
IA|3.2|515 319
    Des Moines:50309-50322;Cedar Rapids:52401-52411;Iowa City:52240-52246
KS|2.9|316 785 913
    Wichita:67202-67235;Topeka:66603-66619;Overland Park:66204-66223
KY|4.5|502 859 270
    Louisville:40202-40299;Lexington:40502-40517;Bowling Green:42101-42104
LA|4.7|504 225 318
    New Orleans:70112-70131;Baton Rouge:70801-70820;Shreveport:71101-71119
ME|1.4|207
    Bangor:04401-04402;Lewiston:04240-04243;Biddeford:04005-04005
MD|6.2|410 301
    Baltimore:21201-21239;Annapolis:21401-21409;Rockville:20850-20855
MA|7.0|617 508 978
    Boston:02108-02136;Worcester:01602-01610;Cambridge:02138-02142;Lowell:01850-01854
MI|10.1|313 616 734
    Detroit:48201-48239;Grand Rapids:49503-49548;Ann Arbor:48103-48109
MN|5.7|612 651 218
    Minneapolis:55401-55455;Saint Paul:55101-55130;Duluth:55802-55811
MS|3.0|601 228
    Jackson:39201-39216;Gulfport:39501-39507;Hattiesburg:39401-39406
MO|6.2|816 314 573
    Kansas City:64105-64157;St. Louis:63101-63147;Columbia:65201-65203
MT|1.1|406
    Billings:59101-59106;Missoula:59801-59808;Helena:59601-59602
NE|2.0|402
    Omaha:68102-68164;Lincoln:68502-68528
NV|3.1|702 775
    Las Vegas:89101-89149;Reno:89501-89523;Henderson:89002-89074
NH|1.4|603
    Manchester:03101-03109;Nashua:03060-03064;Concord:03301-03303
NJ|9.3|973 201 609
    Newark:07102-07114;Jersey City:07302-07311;Trenton:08608-08629;Princeton:08540-08544
NM|2.1|505 575
    Albuquerque:87102-87123;Santa Fe:87501-87508;Las Cruces:88001-88012
NY|20.2|212 718 716 585 518
    New York:10001-10040;Brooklyn:11201-11239;Buffalo:14201-14227;Rochester:14604-14626
    Albany:12202-12211
NC|10.4|704 919 828
    Charlotte:28202-28277;Raleigh:27601-27617;Durham:27701-27713;Asheville:28801-28806
ND|0.8|701
    Fargo:58102-58104;Bismarck:58501-58504
OH|11.8|614 216 513
    Columbus:43201-43235;Cleveland:44101-44135;Cincinnati:45202-45255;Toledo:43604-43623
OK|4.0|405 918
    Oklahoma City:73102-73179;Tulsa:74103-74137;Norman:73069-73072
OR|4.2|503 541
    Portland:97201-97239;Eugene:97401-97408;Salem:97301-97317
PA|13.0|215 412 717 610
    Philadelphia:19102-19154;Pittsburgh:15201-15237;Harrisburg:17101-17113;Allentown:18101-18109
RI|1.1|401
    Providence:02903-02909;Warwick:02886-02889;Cranston:02910-02921
SC|5.1|843 864
    Charleston:29401-29414;Greenville:29601-29617;Myrtle Beach:29572-29579
SD|0.9|605
    Sioux Falls:57103-57110;Rapid City:57701-57703
TN|6.9|615 901 865 423
    Nashville:37201-37221;Memphis:38103-38141;Knoxville:37902-37934;Chattanooga:37402-37421
TX|29.1|713 214 512 210 915 817
    Houston:77002-77099;Dallas:75201-75254;Austin:78701-78759;San Antonio:78201-78260
    El Paso:79901-79938;Fort Worth:76102-76137
UT|3.3|801
    Salt Lake City:84101-84124;Provo:84601-84606;Ogden:84401-84405
VT|0.6|802
    Burlington:05401-05408;Montpelier:05602-05602;Rutland:05701-05702
VA|8.6|804 757 703
    Richmond:23219-23235;Virginia Beach:23451-23464;Arlington:22201-22209;Norfolk:23502-23523
WA|7.7|206 509 253 425
    Seattle:98101-98199;Spokane:99201-99224;Tacoma:98402-98422;Bellevue:98004-98008
WV|1.8|304
    Huntington:25701-25705;Morgantown:26501-26508;Wheeling:26003-26003
WI|5.9|414 608 920
    Milwaukee:53202-53233;Madison:53703-53726;Green Bay:54301-54313
WY|0.6|307
    Cheyenne:82001-82009;Casper:82601-82609
"""


def _records(table: str) -> list[tuple[str, str]]:
    """(header, continuation) pairs: a header line, then its indented lines joined by ';'."""
    records: list[tuple[str, list[str]]] = []
    for line in table.strip("\n").splitlines():
        if line.startswith(" "):
            records[-1][1].append(line.strip())
        else:
            records.append((line, []))
    return [(header, ";".join(more)) for header, more in records]


def _parse_states(table: str) -> tuple[State, ...]:
    states: list[State] = []
    for header, cities in _records(table):
        code, weight, areas = header.split("|")
        place = BY_CODE[code]
        parsed_cities: list[City] = []
        for entry in cities.split(";"):
            city, zips = entry.split(":")
            lo, hi = zips.split("-")
            parsed_cities.append(City(city, int(lo), int(hi)))
        states.append(
            State(
                code=code,
                name=place.name,
                ap_abbr=place.ap_abbr,
                weight=float(weight),
                area_codes=tuple(int(a) for a in areas.split()),
                cities=tuple(parsed_cities),
            )
        )
    return tuple(states)


STATES: tuple[State, ...] = _parse_states(_STATES_TABLE)
STATE_CODES: tuple[str, ...] = tuple(s.code for s in STATES)

# Every (state, city) pair flattened, so one draw picks a city and with it the state and zips.
CITIES: tuple[tuple[int, City], ...] = tuple(
    (index, city) for index, state in enumerate(STATES) for city in state.cities
)


def state_variants(state: State) -> tuple[str, ...]:
    """Ways people actually type a state instead of its two-letter code.

    Each variant maps back to exactly one state: names and AP abbreviations are unique, and the
    lower-case code is not the canonical upper-case one.
    """
    name = state.name
    variants = [name, name.lower(), f" {name.lower()} ", name.upper(), state.code.lower()]
    variants.append(f"{name.lower()} ")
    if state.ap_abbr is not None:
        variants.append(state.ap_abbr)
        variants.append(state.ap_abbr.replace(".", "").lower())
    return tuple(dict.fromkeys(variants))


@dataclass(frozen=True, slots=True)
class Category:
    """A product category: how its prices and weights are spread, and what it sells."""

    name: str
    code: str
    weight: float
    median_price: float
    price_sigma: float
    median_kg: float
    nouns: tuple[str, ...]


# name | sku code | share of catalogue | median price | log-sigma | median kg,
# then indented lines of nouns separated by semicolons.
_CATEGORY_TABLE = """
Electronics|ELE|12|60|1.0|0.4
    Headphones;Bluetooth Speaker;Charger;Keyboard;Mouse;Monitor;Webcam;Tablet;Smartwatch;Router
    Power Bank;Earbuds;USB Hub;Action Camera
Home & Kitchen|HOM|14|35|0.8|1.5
    Blender;Toaster;Knife Set;Cutting Board;Coffee Maker;Dutch Oven;Frying Pan;Mixing Bowl
    Kettle;Spice Rack;Towel Set;Table Lamp
Clothing|CLO|16|30|0.6|0.4
    T-Shirt;Hoodie;Jeans;Rain Jacket;Sneakers;Socks;Dress;Scarf;Beanie;Shorts;Sweater
Books|BOO|10|15|0.4|0.5
    Cookbook;Novel;Atlas;Biography;Field Guide;Workbook;Anthology;Travel Guide
Sports & Outdoors|SPO|9|45|0.9|1.2
    Yoga Mat;Tent;Water Bottle;Backpack;Dumbbell Set;Bike Helmet;Sleeping Bag;Trekking Poles
    Jump Rope
Beauty|BEA|8|18|0.6|0.2
    Face Cream;Shampoo;Lip Balm;Serum;Hair Dryer;Perfume;Sunscreen
Toys & Games|TOY|7|25|0.7|0.6
    Puzzle;Board Game;Building Set;Plush Bear;Action Figure;Kite;Card Game
Grocery|GRO|8|8|0.5|0.5
    Coffee Beans;Olive Oil;Green Tea;Granola;Hot Sauce;Dark Chocolate;Pasta
Garden|GAR|5|30|0.8|2.0
    Planter;Garden Hose;Pruning Shears;Seed Kit;Bird Feeder;Watering Can
Office Supplies|OFF|5|12|0.7|0.4
    Pen Set;Desk Organizer;Stapler;Planner;Desk Lamp;Paper Ream
Pet Supplies|PET|4|20|0.7|1.0
    Dog Bed;Cat Tree;Leash;Pet Bowl;Chew Toy;Litter Box
Automotive|AUT|4|35|0.9|1.5
    Floor Mats;Phone Mount;Jump Starter;Tire Inflator;Car Cover;Dash Cam
"""


def _parse_categories(table: str) -> tuple[Category, ...]:
    categories: list[Category] = []
    for header, nouns in _records(table):
        name, code, weight, price, sigma, kg = header.split("|")
        categories.append(
            Category(
                name=name,
                code=code,
                weight=float(weight),
                median_price=float(price),
                price_sigma=float(sigma),
                median_kg=float(kg),
                nouns=tuple(nouns.split(";")),
            )
        )
    return tuple(categories)


CATEGORIES: tuple[Category, ...] = _parse_categories(_CATEGORY_TABLE)

PRODUCT_ADJECTIVES: tuple[str, ...] = _words(
    """
    Classic Premium Ultra Compact Deluxe Eco Pro Smart Portable Essential Vintage Modern
    Heavy-Duty Mini Everyday Signature Lightweight Rugged
    """
)
PRODUCT_COLORS: tuple[str, ...] = _words(
    """
    Black White Navy Red Forest Slate Sand Bamboo Steel Walnut Coral Sky
    """
)


@dataclass(frozen=True, slots=True)
class UserAgent:
    """A browser user-agent string with the device facts an analytics tag would record."""

    header: str
    os: str
    browser: str
    device: str
    weight: float


_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
_SAFARI = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
USER_AGENTS: tuple[UserAgent, ...] = (
    UserAgent(
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36",
        "Windows",
        "Chrome",
        "desktop",
        24.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) {_SAFARI} Version/17.4 "
        "Mobile/15E148 Safari/604.1",
        "iOS",
        "Safari",
        "mobile",
        22.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {_WEBKIT} Chrome/124.0.0.0 Mobile Safari/537.36",
        "Android",
        "Chrome",
        "mobile",
        16.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_SAFARI} Version/17.4 Safari/605.1.15",
        "macOS",
        "Safari",
        "desktop",
        9.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36",
        "macOS",
        "Chrome",
        "desktop",
        8.0,
    ),
    UserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Windows",
        "Firefox",
        "desktop",
        5.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36 "
        "Edg/124.0.2478.80",
        "Windows",
        "Edge",
        "desktop",
        6.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) {_SAFARI} Version/17.4 Mobile/15E148 "
        "Safari/604.1",
        "iPadOS",
        "Safari",
        "tablet",
        4.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (Linux; Android 14; SM-S918B) {_WEBKIT} SamsungBrowser/24.0 "
        "Chrome/117.0.0.0 Mobile Safari/537.36",
        "Android",
        "Samsung Internet",
        "mobile",
        4.0,
    ),
    UserAgent(
        f"Mozilla/5.0 (X11; Linux x86_64) {_WEBKIT} Chrome/124.0.0.0 Safari/537.36",
        "Linux",
        "Chrome",
        "desktop",
        2.0,
    ),
)

# None is a direct visit (no referrer header).
REFERRERS: tuple[tuple[str | None, float], ...] = (
    (None, 35.0),
    ("https://www.google.com/", 30.0),
    ("https://www.facebook.com/", 8.0),
    ("https://www.instagram.com/", 7.0),
    ("https://www.pinterest.com/", 5.0),
    ("https://www.bing.com/", 4.0),
    ("https://t.co/", 3.0),
    ("https://mail.example-newsletter.com/", 8.0),
)

SEARCH_TERMS: tuple[str, ...] = tuple(
    term.strip()
    for term in [
        "\n    wireless headphones",
        "yoga mat",
        "coffee maker",
        "dog bed",
        "running shoes",
        "gift ideas",
        "usb c charger",
        "\n    board games",
        "olive oil",
        "desk lamp",
        "sunscreen spf 50",
        "backpack",
        "hoodie",
        "dash cam",
        "planter",
        "\n    cast iron pan",
        "smartwatch",
        "kids puzzle",
        "green tea",
        "rain jacket",
        "bike helmet",
        "face cream",
        "tent",
        "\n    water bottle",
        "phone mount",
        "notebook",
        "cat tree",
        "bluetooth speaker",
        "sale",
        "free shipping\n    ",
    ]
)
