"""WashU content for `manage.py seed_demo`: categories, organizers, names, event text.

Pure data and pure functions of a `random.Random`; nothing here touches the database, so the
same seed always yields the same event, whatever is already stored.
"""

import random
import string
from dataclasses import dataclass, field

from events.places import CAMPUS_PLACES, Place
from users.models import User

MAX_TEMPLATE_WEIGHT = 40


@dataclass(frozen=True)
class EventTemplate:
    """One kind of event: a title and the sentence that opens its description.

    Both may use `{slot}` placeholders; one pick per slot is shared by title and text.
    """

    title: str
    opening: str
    venues: tuple[str, ...] = ()  # overrides the category's venues
    durations_minutes: tuple[int, ...] = ()  # overrides the category's durations
    start_hours: tuple[int, ...] = ()  # overrides the category's start hours
    unlimited_capacity: bool = False


@dataclass(frozen=True)
class CategoryContent:
    slug: str
    name: str
    description: str
    organizers: tuple[str, ...]
    venues: tuple[str, ...]
    templates: tuple[EventTemplate, ...]
    details: tuple[str, ...]
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    durations_minutes: tuple[int, ...] = (60, 90, 90, 120)
    start_hours: tuple[int, ...] = (11, 12, 13, 14, 15, 16, 17, 18, 19)


# Slots every category may use.
COMMON_SLOTS: dict[str, tuple[str, ...]] = {
    "food": (
        "Pizza from Pi",
        "Ted Drewes frozen custard",
        "Gooey butter cake",
        "Toasted ravioli",
        "Bagels from the DUC",
        "Tacos from a Delmar Loop food truck",
        "Coffee and pastries from Kaldi's",
        "Insomnia Cookies",
    ),
}

CLOSINGS: tuple[str, ...] = (
    "Open to all WashU students; bring your student ID.",
    "Free for students with a WashU ID. Space is limited, so please register ahead.",
    "Everyone is welcome, no experience needed.",
    "Registration helps us plan food and seating; walk-ins welcome while space lasts.",
    "Accessible entrance available; contact the organizers with any accommodation requests.",
    "Check in at the door with the E-Ren app to earn E-score points.",
    "{food} will be served while it lasts.",
    "Bring a friend — or come alone and leave with a few new ones.",
)

CATEGORIES: tuple[CategoryContent, ...] = (
    CategoryContent(
        slug="academic",
        name="Academic",
        description="Lectures, panels, seminars and research talks across the schools.",
        organizers=(
            "Assembly Series",
            "Center for the Humanities",
            "Office of Undergraduate Research",
            "Department of Philosophy",
            "Department of Economics",
        ),
        venues=("graham-chapel", "january", "wilson", "busch", "eads", "umrath", "holmes"),
        templates=(
            EventTemplate(
                "Assembly Series: {speaker} on {topic}",
                "{speaker} joins the Assembly Series to talk about {topic}, followed by a "
                "moderated Q&A with students.",
                venues=("graham-chapel",),
            ),
            EventTemplate(
                "{department} Colloquium: {topic_capitalized}",
                "The {department} department's weekly colloquium turns to {topic}.",
            ),
            EventTemplate(
                "Panel: {topic_capitalized}",
                "Faculty from {department} and visiting scholars debate {topic}.",
            ),
            EventTemplate(
                "Undergraduate Research Symposium: {department}",
                "Undergraduates present posters and short talks on their {department} research.",
                durations_minutes=(180, 240),
                venues=("duc-tisch", "mallinckrodt"),
            ),
            EventTemplate(
                "Book Talk: {book}",
                "{speaker} discusses {book} and the questions behind it.",
            ),
            EventTemplate(
                "Study Break Lecture: {topic_capitalized} in 20 Minutes",
                "A short, lively lecture on {topic} for anyone who needs a break from studying.",
            ),
        ),
        details=(
            "The talk is aimed at non-specialists, so no background in {department} is needed.",
            "Students can meet the speaker at a small reception afterwards.",
            "Co-sponsored by the {department} department and the Center for the Humanities.",
            "The session will be recorded for students who cannot attend in person.",
            "Readings are optional and will be posted a week ahead.",
        ),
        slots={
            "speaker": (
                "Prof. Elena Marquez",
                "Dr. Samuel Okafor",
                "Prof. Hannah Lindqvist",
                "Dr. Priya Raman",
                "Prof. David Chen",
                "Dr. Amara Nwosu",
                "Prof. Michael Brennan",
                "Dr. Leila Haddad",
                "Prof. Thomas Whitfield",
                "Dr. Yuki Tanaka",
                "Prof. Grace Obuya",
                "Dr. Rafael Ortega",
                "Prof. Sarah Feldman",
                "Dr. Kwame Asante",
                "Prof. Ingrid Holm",
                "Dr. Nadia Karimi",
            ),
            "topic": (
                "the ethics of artificial intelligence",
                "the future of the Mississippi River",
                "democracy and misinformation",
                "climate adaptation in Midwestern cities",
                "the economics of college sports",
                "memory and the brain",
                "the history of St. Louis's 1904 World's Fair",
                "gene editing and its limits",
                "housing policy in American cities",
                "free speech on campus",
                "the science of sleep",
                "water rights in the American West",
                "the Ferguson uprising ten years on",
                "quantum computing for everyone",
                "the Black Death and modern pandemics",
                "urban forests and heat",
                "the politics of food",
                "global public health after COVID-19",
            ),
            "department": (
                "Philosophy",
                "Economics",
                "History",
                "Political Science",
                "Psychological & Brain Sciences",
                "Biology",
                "English",
                "Physics",
                "Sociology",
                "Environmental Studies",
                "Anthropology",
                "Mathematics",
                "Chemistry",
                "Earth, Environmental & Planetary Sciences",
                "Linguistics",
                "Classics",
            ),
            "book": (
                "The Gateway City",
                "Rivers of Memory",
                "Thinking in Systems Again",
                "The Quiet Majority",
                "A Short History of Forest Park",
                "Minds and Machines",
                "Rivers and Railroads",
                "After the Flood",
                "The Long Game",
            ),
        },
    ),
    CategoryContent(
        slug="arts",
        name="Arts & Exhibitions",
        description="Gallery openings, theatre, dance and hands-on art workshops.",
        organizers=(
            "Mildred Lane Kemper Art Museum",
            "Performing Arts Department",
            "Sam Fox School Student Council",
            "Thyrsus Theatre Group",
        ),
        venues=("kemper", "steinberg", "edison", "tietjens", "umrath"),
        templates=(
            EventTemplate(
                "Gallery Talk: {exhibition}",
                "A curator leads a walk through {exhibition} at the Kemper Art Museum.",
                venues=("kemper",),
            ),
            EventTemplate(
                "Opening Reception: {exhibition}",
                "Celebrate the opening of {exhibition} with the artists and the Sam Fox community.",
                venues=("kemper", "steinberg"),
            ),
            EventTemplate(
                "{play} — Performing Arts Department",
                "The Performing Arts Department stages {play} in Edison Theatre.",
                venues=("edison",),
                start_hours=(19, 19, 20),
            ),
            EventTemplate(
                "Dance Showcase: {dance_group}",
                "{dance_group} presents an evening of new student choreography.",
                venues=("edison",),
                start_hours=(19, 20),
            ),
            EventTemplate(
                "Workshop: {craft} for Beginners",
                "Learn the basics of {craft} with students from the Sam Fox School. Materials "
                "are provided; wear clothes you don't mind getting messy.",
            ),
            EventTemplate(
                "Figure Drawing Night",
                "An open figure-drawing session with a live model; easels and paper provided.",
                venues=("tietjens",),
            ),
        ),
        details=(
            "Doors open fifteen minutes before the start.",
            "A short Q&A with the artists follows.",
            "Seating is general admission.",
        ),
        slots={
            "exhibition": (
                "Printmaking from the Permanent Collection",
                "Light and Landscape: American Painting 1850-1950",
                "Sam Fox MFA Thesis Exhibition",
                "Paper Architecture",
                "St. Louis Photographers Now",
                "Textiles of the Andes",
                "Women of the Bauhaus",
                "Drawing the City",
                "Ceramics Now",
                "Contemporary Prints from Mexico City",
            ),
            "play": (
                "A Midsummer Night's Dream",
                "Our Town",
                "The Importance of Being Earnest",
                "Twelfth Night",
                "An Evening of New Student One-Acts",
                "Hamlet",
                "Into the Woods",
                "Fences",
                "The Crucible",
                "Antigone",
            ),
            "dance_group": (
                "WashU Dance Collective",
                "Chaotic Harmony",
                "Bhangra Team",
                "Mariachi Dance Ensemble",
                "Hip-Hop Club",
            ),
            "craft": (
                "screen printing",
                "watercolor",
                "ceramics",
                "bookbinding",
                "letterpress",
                "linocut",
                "embroidery",
                "film photography",
                "zine making",
                "calligraphy",
            ),
        },
        durations_minutes=(60, 90, 120),
    ),
    CategoryContent(
        slug="athletics",
        name="Athletics",
        description="Bears varsity games, intramurals and club sports.",
        organizers=("WashU Athletics", "Club Sports Council", "Intramural Sports"),
        venues=("field-house", "francis-field", "sumers"),
        templates=(
            EventTemplate(
                "{indoor_sport}: WashU Bears vs. {rival}",
                "The Bears host {rival} in {indoor_sport_lower} at the Field House. Wear red and "
                "green: the first 200 students get a free Bears T-shirt.",
                venues=("field-house",),
                durations_minutes=(120,),
                unlimited_capacity=True,
            ),
            EventTemplate(
                "{outdoor_sport}: WashU Bears vs. {rival}",
                "The Bears take on {rival} in {outdoor_sport_lower} on Francis Field, a game that "
                "counts toward the University Athletic Association standings.",
                venues=("francis-field",),
                durations_minutes=(120, 150),
                unlimited_capacity=True,
            ),
            EventTemplate(
                "Intramural {intramural} Tournament",
                "Grab a team — or join one there — for a {intramural_lower} tournament. All skill "
                "levels welcome.",
                venues=("sumers", "field-house"),
                start_hours=(18, 19, 20),
            ),
            EventTemplate(
                "Club {club_sport} Open Practice",
                "The club {club_sport_lower} team opens its practice to anyone curious.",
                venues=("sumers", "francis-field"),
            ),
            EventTemplate(
                "Tailgate Before the {rival} Game",
                "Warm up for the {rival} game with food, music and face paint.",
                venues=("francis-field", "bowles-plaza"),
            ),
        ),
        details=(
            "Admission is free for students with a WashU ID.",
            "Fans and first-timers alike are welcome.",
            "Follow WashU Athletics on social media for live updates and schedule changes.",
        ),
        slots={
            "rival": (
                "UChicago",
                "Emory",
                "Case Western Reserve",
                "Carnegie Mellon",
                "NYU",
                "Rochester",
                "Brandeis",
                "Illinois Wesleyan",
                "Wheaton",
                "Chicago State",
                "Webster",
                "Fontbonne",
                "Millikin",
            ),
            "indoor_sport": (
                "Men's Basketball",
                "Women's Basketball",
                "Volleyball",
                "Swimming & Diving",
            ),
            "outdoor_sport": ("Women's Soccer", "Men's Soccer", "Football", "Field Hockey"),
            "intramural": ("Dodgeball", "Three-on-Three Basketball", "Pickleball", "Volleyball"),
            "club_sport": (
                "Ultimate Frisbee",
                "Rugby",
                "Climbing",
                "Fencing",
                "Table Tennis",
                "Water Polo",
                "Cycling",
                "Badminton",
                "Lacrosse",
            ),
        },
        durations_minutes=(90, 120),
        start_hours=(12, 14, 16, 18, 19),
    ),
    CategoryContent(
        slug="career",
        name="Career & Professional",
        description="Career fairs, employer sessions, résumé reviews and networking.",
        organizers=("Center for Career Engagement", "Olin Business School", "Pre-Law Society"),
        venues=("simon", "knight-bauer", "duc-goldberg", "mallinckrodt", "anheuser-busch"),
        templates=(
            EventTemplate(
                "{industry} Career Fair",
                "Meet recruiters from more than 60 {industry_lower} employers hiring for "
                "internships and full-time roles.",
                venues=("duc-tisch", "field-house"),
                durations_minutes=(300, 360),
                start_hours=(10, 11),
                unlimited_capacity=True,
            ),
            EventTemplate(
                "Employer Info Session: {employer}",
                "Recruiters from {employer} talk about their internship programs and what "
                "they look for in applicants.",
            ),
            EventTemplate(
                "Résumé Review Drop-In",
                "Career coaches review your résumé in fifteen-minute one-on-one slots.",
                durations_minutes=(120, 180),
            ),
            EventTemplate(
                "Workshop: {career_skill}",
                "A hands-on workshop, {career_skill}, led by the Center for Career Engagement.",
            ),
            EventTemplate(
                "Alumni Panel: Careers in {industry}",
                "WashU alumni working in {industry_lower} share how they got there.",
            ),
        ),
        details=(
            "Business casual is encouraged but not required.",
            "Bring several printed copies of your résumé.",
            "Students of every class year and school are welcome.",
            "Sign up on Handshake as well to get reminders from employers.",
        ),
        slots={
            "industry": (
                "Consulting",
                "Healthcare",
                "Technology",
                "Nonprofit & Government",
                "Finance",
                "Engineering",
            ),
            "employer": (
                "Boeing",
                "Edward Jones",
                "Centene",
                "Emerson",
                "World Wide Technology",
                "BJC HealthCare",
                "Enterprise Mobility",
                "Bain & Company",
                "Accenture",
                "Deloitte",
                "Washington University School of Medicine",
                "Nestlé Purina",
                "Anheuser-Busch InBev",
                "Bayer",
                "Peace Corps",
                "Teach For America",
            ),
            "career_skill": (
                "Acing the Behavioral Interview",
                "LinkedIn Profiles That Get Noticed",
                "Negotiating Your First Offer",
                "Case Interview Practice",
                "Networking for Introverts",
                "Finding Research Positions",
                "Applying to Graduate School",
                "Writing a Cover Letter",
                "Landing a Summer Internship",
            ),
        },
    ),
    CategoryContent(
        slug="community-service",
        name="Community Service",
        description="Volunteering with St. Louis partners, drives and civic engagement.",
        organizers=("Gephardt Institute for Civic and Community Engagement", "Campus Y"),
        venues=("duc-tisch", "bowles-plaza", "umrath", "mallinckrodt"),
        templates=(
            EventTemplate(
                "Volunteer Day with {partner}",
                "Spend the afternoon volunteering with {partner}. Vans leave from the "
                "Mallinckrodt bus stop fifteen minutes before the start; wear closed-toe shoes.",
                durations_minutes=(180, 240),
                start_hours=(9, 10, 13),
            ),
            EventTemplate(
                "{drive} Drive",
                "Drop off donations for the {drive_lower} drive, benefiting {partner}.",
                durations_minutes=(300, 360),
                start_hours=(10,),
                unlimited_capacity=True,
            ),
            EventTemplate(
                "Civic Engagement Workshop: {civic_topic}",
                "A practical workshop on {civic_topic_lower} with the Gephardt Institute.",
            ),
            EventTemplate(
                "Tutoring Orientation: {partner}",
                "New volunteer tutors learn how to get started with {partner}.",
            ),
        ),
        details=(
            "Service hours count toward the Gephardt Civic Scholars program.",
            "No prior experience needed.",
            "Sign up with friends and you will be placed on the same team.",
        ),
        slots={
            "partner": (
                "St. Louis Area Foodbank",
                "Habitat for Humanity St. Louis",
                "Forest Park Forever",
                "the Missouri Botanical Garden",
                "St. Louis Public Schools",
                "Gateway Greening",
                "the Great Rivers Greenway",
                "Operation Food Search",
                "the Magic House",
                "Tower Grove Park",
                "St. Louis Crisis Nursery",
                "Urban Harvest STL",
            ),
            "drive": ("Winter Coat", "Canned Food", "Book", "Hygiene Kit"),
            "civic_topic": (
                "Registering to Vote",
                "Talking to Your Representatives",
                "Local Government 101",
                "Nonprofit Board Service",
                "Running for Student Office",
                "Understanding the Ballot",
                "Organizing a Campaign",
            ),
        },
    ),
    CategoryContent(
        slug="cultural",
        name="Cultural",
        description="Heritage celebrations, cultural shows and conversations across communities.",
        organizers=(
            "Association of Black Students",
            "Ashoka: South Asian Students Association",
            "Chinese Students Association",
            "Association of Latin American Students",
            "Korean Students Association",
        ),
        venues=("duc-tisch", "edison", "graham-chapel", "umrath", "holmes"),
        templates=(
            EventTemplate(
                "{festival} Celebration",
                "Celebrate {festival} with food, performances and friends.",
                start_hours=(18, 19),
            ),
            EventTemplate(
                "{culture} Culture Night",
                "The annual {culture} Culture Night: student performances, a fashion show and "
                "a dinner.",
                venues=("edison", "duc-tisch"),
                start_hours=(18, 19),
                durations_minutes=(150, 180),
            ),
            EventTemplate(
                "Language Table: {language}",
                "Practice {language} over snacks with native speakers and learners of every level.",
                venues=("holmes", "umrath"),
            ),
            EventTemplate(
                "Film and Discussion: {culture} Stories",
                "A screening of a short film followed by a conversation on {culture} identity.",
            ),
            EventTemplate(
                "Cooking Class: {dish_capitalized}",
                "Learn to cook {dish} with student chefs; you eat what you make.",
                venues=("bears-den",),
            ),
        ),
        details=(
            "Traditional dress is welcome but not expected.",
            "Tickets are free but limited, so register early.",
            "Proceeds from the bake sale go to a local community partner.",
            "All students are welcome, whatever their background.",
        ),
        slots={
            "festival": (
                "Diwali",
                "Lunar New Year",
                "Día de los Muertos",
                "Kwanzaa",
                "Chuseok",
                "Holi",
                "Eid al-Fitr",
                "Hanukkah",
                "Mid-Autumn Festival",
                "Nowruz",
            ),
            "culture": (
                "Korean",
                "Filipino",
                "Caribbean",
                "Vietnamese",
                "Nigerian",
                "Mexican",
                "Ethiopian",
                "Brazilian",
                "Japanese",
                "Pakistani",
                "Ghanaian",
                "Puerto Rican",
                "Taiwanese",
            ),
            "language": (
                "Spanish",
                "Mandarin",
                "Hindi",
                "Korean",
                "French",
                "Arabic",
                "Japanese",
                "Portuguese",
                "German",
                "Swahili",
                "Italian",
            ),
            "dish": (
                "dumplings",
                "arepas",
                "jollof rice",
                "bibimbap",
                "samosas",
                "pho",
                "empanadas",
                "kimchi",
                "injera",
                "mochi",
                "tamales",
            ),
        },
    ),
    CategoryContent(
        slug="greek-life",
        name="Greek Life",
        description="Recruitment, philanthropy and events from fraternities and sororities.",
        organizers=(
            "Interfraternity Council",
            "Panhellenic Association",
            "National Pan-Hellenic Council",
        ),
        venues=("duc-tisch", "bowles-plaza", "mudd-field", "umrath", "duc-goldberg"),
        templates=(
            EventTemplate(
                "{council} Recruitment Info Night",
                "Curious about Greek life? Meet members of {council} chapters and ask anything.",
            ),
            EventTemplate(
                "Philanthropy {philanthropy_event} for {charity}",
                "Chapters compete in a {philanthropy_event} to raise money for {charity}; "
                "every dollar goes to the charity.",
                venues=("mudd-field", "bowles-plaza", "sumers"),
            ),
            EventTemplate(
                "Greek Week: {greek_week}",
                "Greek Week continues with {greek_week_lower}.",
            ),
            EventTemplate(
                "NPHC Step Show",
                "National Pan-Hellenic Council chapters take the stage for the annual step show.",
                venues=("edison",),
                start_hours=(19,),
            ),
        ),
        details=(
            "Unaffiliated students are welcome.",
            "Members of every chapter will be there to answer questions.",
            "Chapters earn Greek Week points for attendance.",
        ),
        slots={
            "council": ("Interfraternity Council", "Panhellenic", "National Pan-Hellenic Council"),
            "philanthropy_event": ("Dodgeball Tournament", "Pancake Breakfast", "5K Fun Run"),
            "charity": (
                "St. Jude Children's Research Hospital",
                "the Ronald McDonald House",
                "Girls on the Run St. Louis",
                "the Alzheimer's Association",
                "Big Brothers Big Sisters",
                "the American Cancer Society",
                "CASA of St. Louis",
            ),
            "greek_week": (
                "Trivia Night",
                "Lip Sync Battle",
                "Field Day",
                "Chapter Olympics",
                "Banner Contest",
                "Blood Drive",
                "Talent Show",
            ),
        },
    ),
    CategoryContent(
        slug="social",
        name="Social",
        description="Parties, game nights, trivia and campus traditions.",
        organizers=(
            "Social Programming Board",
            "Congress of the South 40",
            "Student Union",
            "Residential Life",
        ),
        venues=("bears-den", "south-40-swamp", "duc-tisch", "holmes", "mudd-field", "umrath"),
        templates=(
            EventTemplate(
                "{game} Night",
                "Take a break and unwind with friends at {game} Night. {food} provided.",
                start_hours=(19, 20, 21),
            ),
            EventTemplate(
                "Trivia Night: {trivia_theme}",
                'Teams of up to six face off in a trivia night themed "{trivia_theme}". Prizes '
                "for the top three teams.",
                start_hours=(19, 20),
            ),
            EventTemplate(
                "{semester_word_title} Study Break",
                "Take a breather: {food}, music and crafts.",
                start_hours=(20, 21),
            ),
            EventTemplate(
                "Karaoke at the Bear's Den",
                "Sing badly with friends. Song list open to requests.",
                venues=("bears-den",),
                start_hours=(20, 21),
            ),
            EventTemplate(
                "Open Mic Night",
                "Poetry, comedy, music — sign up at the door for a five-minute slot.",
                venues=("holmes", "bears-den"),
                start_hours=(19, 20),
            ),
            EventTemplate(
                "S'mores on the Swamp",
                "A bonfire, s'mores and hot cider on the South 40 Swamp.",
                venues=("south-40-swamp",),
                start_hours=(19, 20),
            ),
        ),
        details=(
            "No sign-up needed for individuals; teams can register together.",
            "Quiet hours on the South 40 start at 11 p.m., so it wraps up well before then.",
            "There will be a raffle for WashU swag.",
        ),
        slots={
            "game": (
                "Board Game",
                "Mario Kart",
                "Bingo",
                "Poker",
                "Jackbox",
                "Puzzle",
                "Euchre",
                "Chess",
                "Smash Bros.",
                "Settlers of Catan",
            ),
            "trivia_theme": (
                "Pop Culture",
                "St. Louis",
                "2000s Music",
                "Movies",
                "General",
                "Harry Potter",
                "Sports",
                "Geography",
                "Broadway",
                "WashU History",
                "Science",
            ),
            "semester_word_title": ("Fall", "Pre-Finals", "Thanksgiving", "Winter", "Midterm"),
        },
    ),
    CategoryContent(
        slug="wellness",
        name="Health & Wellness",
        description="Fitness, mindfulness, mental health and healthy living.",
        organizers=(
            "Habif Health and Wellness Center",
            "Uncle Joe's Peer Counseling",
            "Sumers Recreation Center",
        ),
        venues=("sumers", "duc-goldberg", "umrath", "holmes"),
        templates=(
            EventTemplate(
                "{fitness_class}",
                "{fitness_class} for every level, led by a certified instructor; mats and "
                "equipment are provided.",
                venues=("sumers",),
                durations_minutes=(45, 60),
                start_hours=(7, 8, 12, 17, 18),
            ),
            EventTemplate(
                "Mindfulness Session: {mindfulness}",
                "A guided session on {mindfulness_lower} with counselors from Habif.",
                durations_minutes=(45, 60),
            ),
            EventTemplate(
                "Workshop: {wellness_topic}",
                "Peer educators lead a practical workshop on {wellness_topic_lower}.",
            ),
            EventTemplate(
                "Therapy Dogs Before Finals",
                "Pet certified therapy dogs and decompress before finals.",
                venues=("duc-tisch", "mudd-field"),
                unlimited_capacity=True,
            ),
        ),
        details=(
            "Stop by the Habif table for free health resources.",
            "Confidential counseling is available afterwards for anyone who wants to talk.",
            "Wear comfortable clothes.",
        ),
        slots={
            "fitness_class": (
                "Sunrise Yoga",
                "HIIT Bootcamp",
                "Spin Class",
                "Zumba",
                "Pilates Core",
                "Learn to Lift",
                "Cardio Kickboxing",
                "Restorative Yoga",
                "Barre",
                "Boxing Basics",
                "Power Yoga",
            ),
            "mindfulness": (
                "Managing Exam Stress",
                "Breathing for Focus",
                "Sleep Better",
                "Gratitude Practice",
                "Body Scan Meditation",
                "Mindful Walking",
            ),
            "wellness_topic": (
                "Eating Well on a Dining Plan",
                "Building Healthy Sleep Habits",
                "Supporting a Friend in Crisis",
                "Balancing Work and Rest",
                "Recognizing Burnout",
                "Healthy Relationships",
                "Managing Money in College",
                "Alcohol and Decision-Making",
            ),
        },
    ),
    CategoryContent(
        slug="tech",
        name="Tech & Engineering",
        description="Hackathons, coding workshops, engineering talks and maker projects.",
        organizers=(
            "WashU ACM",
            "McKelvey School of Engineering",
            "Society of Women Engineers",
            "WashU Robotics",
        ),
        venues=("mckelvey", "jubel", "whitaker", "lopata", "urbauer", "rudolph"),
        templates=(
            EventTemplate(
                "Workshop: Intro to {technology}",
                "A hands-on introduction to {technology}; bring a laptop.",
            ),
            EventTemplate(
                "Tech Talk: {tech_topic}",
                "An engineer from {employer} on {tech_topic_lower}, with time for questions.",
            ),
            EventTemplate(
                "Hack Night: Build Something with {technology}",
                "An evening of building with {technology} alongside mentors from ACM.",
                start_hours=(18, 19),
                durations_minutes=(180,),
            ),
            EventTemplate(
                "{robot} Demo Day",
                "WashU Robotics shows off the {robot} it has built this semester.",
                venues=("jubel", "whitaker"),
            ),
            EventTemplate(
                "Coding Interview Prep: {interview_topic}",
                "Practice {interview_topic_lower} problems in pairs with upperclass mentors.",
            ),
        ),
        details=(
            "Bring a laptop if you have one; loaners are available.",
            "No prior experience required.",
            "Slides and code will be shared on GitHub afterwards.",
            "Mentors from ACM will be on hand to help you get unstuck.",
        ),
        slots={
            "technology": (
                "Python",
                "React",
                "Rust",
                "Arduino",
                "Machine Learning",
                "Git",
                "Docker",
                "SQL",
                "TypeScript",
                "Figma",
                "Raspberry Pi",
                "Unity",
                "Swift",
            ),
            "tech_topic": (
                "Building Reliable Distributed Systems",
                "Large Language Models in Production",
                "Designing Accessible Interfaces",
                "Security Lessons from Real Breaches",
                "Robotics in Medicine",
                "Open Source Careers",
                "Engineering for Climate Resilience",
                "How Search Engines Rank",
            ),
            "employer": ("Boeing", "World Wide Technology", "Mastercard", "Square", "Google"),
            "robot": (
                "Autonomous Rover",
                "Robot Arm",
                "Drone Swarm",
                "Sumo Bot",
                "Line-Following Robot",
                "Underwater ROV",
                "Mars Rover Prototype",
            ),
            "interview_topic": ("Dynamic Programming", "Graph", "System Design", "Array"),
        },
    ),
    CategoryContent(
        slug="music",
        name="Music",
        description="Concerts, a cappella, recitals and student radio events.",
        organizers=(
            "Department of Music",
            "WashU Symphony Orchestra",
            "The Amateurs",
            "KWUR 90.3 FM",
        ),
        venues=("graham-chapel", "edison", "holmes", "bears-den", "tietjens"),
        templates=(
            EventTemplate(
                "{ensemble} {semester_word_title} Concert",
                "The {ensemble} performs its {semester_word_title_lower} concert.",
                venues=("graham-chapel", "edison"),
                start_hours=(19, 20),
            ),
            EventTemplate(
                "A Cappella Showcase: {a_cappella}",
                "{a_cappella} and guest groups sing an evening of pop arrangements.",
                venues=("graham-chapel",),
                start_hours=(19, 20),
            ),
            EventTemplate(
                "Student Recital: {instrument}",
                "Music majors give a {instrument_lower} recital.",
                venues=("tietjens", "graham-chapel"),
                durations_minutes=(60,),
            ),
            EventTemplate(
                "KWUR Presents: {band} Live",
                "Student radio KWUR 90.3 FM brings {band} to campus for a free show.",
                venues=("bears-den", "holmes"),
                start_hours=(20, 21),
            ),
            EventTemplate(
                "Jazz at Holmes",
                "Live jazz from student combos in Holmes Lounge.",
                venues=("holmes",),
                start_hours=(12, 20),
            ),
        ),
        details=(
            "Free admission; donations to the music scholarship fund are welcome.",
            "The program runs about an hour and a half with a short intermission.",
            "Doors open twenty minutes before the start.",
        ),
        slots={
            "ensemble": ("WashU Symphony Orchestra", "Wind Ensemble", "Jazz Band", "Choir"),
            "a_cappella": ("The Amateurs", "The Greenleafs", "Mosaic Whispers", "The Pikers"),
            "instrument": (
                "Piano",
                "Violin",
                "Cello",
                "Voice",
                "Guitar",
                "Flute",
                "Trumpet",
                "Saxophone",
                "Percussion",
            ),
            "band": (
                "The Loop Lines",
                "Forest Park Fire",
                "Skinker Sound",
                "Delmar Daydream",
                "The Clayton Stops",
                "Big Bend Radio",
                "Lindell Lights",
                "Tivoli Static",
            ),
            "semester_word_title": ("Fall", "Winter", "Holiday", "Late-Autumn"),
        },
    ),
    CategoryContent(
        slug="film",
        name="Film & Media",
        description="Screenings, filmmaker talks and media workshops.",
        organizers=("Film and Media Studies", "WashU Film Society", "Student Life Newspaper"),
        venues=("steinberg", "tietjens", "umrath", "seigle"),
        templates=(
            EventTemplate(
                "Screening: {film}",
                "A screening of {film}, introduced by a Film and Media Studies professor.",
                start_hours=(19, 20),
                durations_minutes=(150,),
            ),
            EventTemplate(
                "Filmmaker Q&A with {filmmaker}",
                "Documentary filmmaker {filmmaker} screens clips and talks about their process.",
            ),
            EventTemplate(
                "Workshop: {media_skill}",
                "{media_skill}: a hands-on session with the gear and software you need.",
            ),
            EventTemplate(
                "48-Hour Film Challenge Kickoff",
                "Teams get a genre, a prop and a line of dialogue — then 48 hours to make a film.",
                start_hours=(18,),
            ),
        ),
        details=(
            "Popcorn provided.",
            "Open captions are shown at every screening.",
            "Equipment can be borrowed from the media lab with a WashU ID.",
        ),
        slots={
            "film": (
                "Meet Me in St. Louis",
                "Casablanca",
                "Spirited Away",
                "Moonlight",
                "Paris, Texas",
                "Rear Window",
                "Do the Right Thing",
                "Amélie",
                "The Grand Budapest Hotel",
                "Get Out",
                "Roma",
                "Lady Bird",
                "In the Mood for Love",
                "Everything Everywhere All at Once",
                "Parasite",
            ),
            "filmmaker": (
                "Jordan Ellis",
                "Maya Castillo",
                "Aaron Whitlock",
                "Noor Siddiqui",
                "Lucas Ferreira",
                "Hana Kobayashi",
                "Tomás Rivera",
            ),
            "media_skill": (
                "Video Editing in Premiere",
                "Podcast Production",
                "Photojournalism",
                "Screenwriting Basics",
                "Shooting on a Smartphone",
                "Sound Design",
                "Color Grading",
                "Documentary Interviewing",
            ),
        },
    ),
    CategoryContent(
        slug="faith",
        name="Faith & Spirituality",
        description="Worship, interfaith dialogue and reflection from campus faith communities.",
        organizers=(
            "Catholic Student Center",
            "Washington University Hillel",
            "Muslim Students Association",
            "Office for Religious, Spiritual and Ethical Life",
        ),
        venues=("graham-chapel", "umrath", "holmes", "duc-goldberg"),
        templates=(
            EventTemplate(
                "Interfaith Dialogue: {faith_topic}",
                "Students of many traditions — and none — talk about {faith_topic_lower}.",
            ),
            EventTemplate(
                "{faith_meal}",
                "{faith_meal} is open to everyone; come hungry.",
                start_hours=(18, 19),
            ),
            EventTemplate(
                "Meditation and Reflection in Graham Chapel",
                "A quiet half hour of music and guided reflection.",
                venues=("graham-chapel",),
                durations_minutes=(30, 45),
                start_hours=(12, 17),
            ),
            EventTemplate(
                "Service Trip Info Session: {service_trip}",
                "Learn about the {service_trip} trip and how to apply.",
            ),
        ),
        details=(
            "Dietary restrictions are accommodated; note yours when you register.",
            "All are welcome regardless of faith or belief.",
        ),
        slots={
            "faith_topic": (
                "Gratitude",
                "Doubt and Belief",
                "Service",
                "Rest and Sabbath",
                "Forgiveness",
                "Faith and Science",
                "Hope",
                "Justice",
                "Community",
            ),
            "faith_meal": (
                "Shabbat Dinner at Hillel",
                "Interfaith Thanksgiving Meal",
                "Muslim Students Association Community Dinner",
                "Sunday Night Supper",
            ),
            "service_trip": (
                "Alternative Winter Break",
                "New Orleans Rebuild",
                "Appalachia",
                "Puerto Rico Recovery",
                "Border Ministries in El Paso",
                "Detroit Urban Farming",
            ),
        },
        durations_minutes=(60, 90),
    ),
)


class _Picks(dict[str, str]):
    """Chooses a slot value the first time it is used and keeps it for the rest of the event.

    `{name_lower}` reuses the pick of `name` in lower case, for use mid-sentence, and
    `{name_capitalized}` with its first letter in upper case, for use in titles.
    """

    def __init__(self, *, rng: random.Random, slots: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self._rng = rng
        self._slots = slots

    def __missing__(self, key: str) -> str:
        if key.endswith("_lower"):
            value = self[key.removesuffix("_lower")].lower()
        elif key.endswith("_capitalized"):
            base = self[key.removesuffix("_capitalized")]
            value = base[:1].upper() + base[1:]
        else:
            value = self._rng.choice(self._slots[key])
        self[key] = value
        return value


@dataclass(frozen=True)
class EventText:
    title: str
    description: str
    venue: Place
    duration_minutes: int
    start_hour: int
    unlimited_capacity: bool


def _title_variety(*, template: EventTemplate, slots: dict[str, tuple[str, ...]]) -> int:
    """How many different titles the template can produce."""
    variety = 1
    for _, slot, _, _ in string.Formatter().parse(template.title):
        if slot:
            base = slot.removesuffix("_lower").removesuffix("_capitalized")
            variety *= len(slots[base])
    return variety


def event_text_generate(*, category: CategoryContent, rng: random.Random) -> EventText:
    slots = {**COMMON_SLOTS, **category.slots}
    # Templates with more possible titles are drawn more often, so the handful of fixed titles
    # ("Jazz at Holmes") recur like a weekly series instead of filling every day; the cap keeps
    # one big template from crowding out the rest.
    weights = [
        min(_title_variety(template=template, slots=slots), MAX_TEMPLATE_WEIGHT)
        for template in category.templates
    ]
    template = rng.choices(category.templates, weights=weights)[0]
    picks = _Picks(rng=rng, slots=slots)
    details = rng.sample(category.details, k=min(len(category.details), rng.choice((1, 2))))
    sentences = [template.opening, *details, rng.choice(CLOSINGS)]
    venue_key = rng.choice(template.venues or category.venues)
    return EventText(
        title=template.title.format_map(picks),
        description=" ".join(sentence.format_map(picks) for sentence in sentences),
        venue=CAMPUS_PLACES[venue_key],
        duration_minutes=rng.choice(template.durations_minutes or category.durations_minutes),
        start_hour=rng.choice(template.start_hours or category.start_hours),
        unlimited_capacity=template.unlimited_capacity,
    )


# Names for the bulk students. A fixed list rather than Faker: Faker is a dev-only dependency,
# and a list the project owns cannot change under the demo when a library is upgraded.
FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah", "Aarav", "Abigail", "Adrian", "Aisha", "Alejandro", "Alex", "Amara", "Amelia",
    "Ananya", "Andrew", "Anika", "Ava", "Benjamin", "Bianca", "Brandon", "Caleb", "Camila",
    "Carlos", "Charlotte", "Chloe", "Christopher", "Daniel", "David", "Diego", "Elijah",
    "Elena", "Ella", "Emily", "Emma", "Ethan", "Evelyn", "Fatima", "Gabriel", "Grace",
    "Hannah", "Harper", "Hiroshi", "Isaac", "Isabella", "Jack", "Jacob", "James", "Jasmine",
    "Jayden", "Ji-woo", "Jonah", "Jordan", "Joshua", "Julia", "Kai", "Kavya", "Kayla", "Leah",
    "Leo", "Liam", "Lily", "Lucas", "Luis", "Madison", "Malik", "Maria", "Maya", "Mei",
    "Mia", "Michael", "Min-jun", "Mohammed", "Naomi", "Natalie", "Nathan", "Nia", "Noah",
    "Olivia", "Omar", "Owen", "Priya", "Rachel", "Rahul", "Ryan", "Samuel", "Sarah",
    "Sebastian", "Sofia", "Sophia", "Tariq", "Thomas", "Tyler", "Valentina", "Victoria",
    "William", "Xavier", "Yasmin", "Yusuf", "Zara", "Zoe",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Adams", "Agarwal", "Ahmed", "Alvarez", "Anderson", "Bailey", "Baker", "Banerjee", "Brooks",
    "Brown", "Campbell", "Chen", "Clark", "Collins", "Cruz", "Davis", "Diaz", "Edwards",
    "Evans", "Fernandez", "Fischer", "Foster", "Garcia", "Goldberg", "Gomez", "Gonzalez",
    "Green", "Gupta", "Hall", "Harris", "Hernandez", "Hill", "Huang", "Hughes", "Ibrahim",
    "Jackson", "Johnson", "Jones", "Kaplan", "Kelly", "Khan", "Kim", "King", "Kowalski",
    "Kumar", "Lee", "Lewis", "Li", "Lin", "Lopez", "Martin", "Martinez", "Mehta", "Miller",
    "Mitchell", "Moore", "Morales", "Murphy", "Nguyen", "Novak", "Obi", "Okafor", "Ortiz",
    "Park", "Patel", "Perez", "Phillips", "Ramirez", "Reddy", "Reyes", "Rivera", "Roberts",
    "Robinson", "Rodriguez", "Rossi", "Sanchez", "Schmidt", "Shah", "Silva", "Singh",
    "Smith", "Sullivan", "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Tran",
    "Turner", "Walker", "Wang", "Washington", "Weiss", "White", "Williams", "Wilson", "Wong",
    "Wright", "Wu", "Yamamoto", "Young", "Zhang",
)  # fmt: skip


@dataclass(frozen=True)
class StudentIdentity:
    display_name: str
    email: str


def student_identities_generate(*, count: int, seed: str) -> list[StudentIdentity]:
    """`count` students with unique e-mails; the first n are the same whatever `count` is."""
    rng = random.Random(seed)  # noqa: S311 - demo names, not security
    used_local_parts: set[str] = set()
    identities = []
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        plain = f"{first}.{last}".lower().replace("-", "")
        local_part, suffix = plain, 1
        while local_part in used_local_parts:
            suffix += 1
            local_part = f"{plain}{suffix}"
        used_local_parts.add(local_part)
        identities.append(
            StudentIdentity(display_name=f"{first} {last}", email=f"{local_part}@wustl.edu")
        )
    return identities


# --- Accounts and event settings ---------------------------------------------------------

DEMO_PASSWORD = "washu-demo"  # noqa: S105 - published credentials of the local demo accounts
DEMO_STUDENT_EMAIL = "student@wustl.edu"
DEMO_ORGANIZER_EMAIL = "organizer@wustl.edu"
DEMO_ADMIN_EMAIL = "admin@wustl.edu"
CANCELLATION_REASONS = (
    "The speaker had to cancel because of travel problems.",
    "Cancelled because of severe weather in St. Louis.",
    "The venue is no longer available; we will announce a new date soon.",
    "Postponed until next semester because of low availability of volunteers.",
    "Cancelled by the organizers. We apologise for the inconvenience.",
)
REGULAR_CAPACITIES = (20, 25, 30, 40, 40, 50, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    is_organizer: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    leaderboard_visibility: str = User.LeaderboardVisibility.PUBLIC


DEMO_ACCOUNTS = (
    DemoAccount(email=DEMO_STUDENT_EMAIL, display_name="Demo Student"),
    DemoAccount(
        email=DEMO_ORGANIZER_EMAIL,
        display_name="Demo Organizer",
        is_organizer=True,
        # It organizes ~150 demo events; its organizer points would top the student board.
        leaderboard_visibility=User.LeaderboardVisibility.HIDDEN,
    ),
    DemoAccount(
        email=DEMO_ADMIN_EMAIL, display_name="Demo Admin", is_staff=True, is_superuser=True
    ),
)
