"""Who shops at the demo shop: countries across Europe and America, each with its language,
IANA time zones, cities, names and the mail domains people there use.

Every address is at a domain reserved for examples (RFC 2606/6761: `example.com`, `.example`),
so demo mail can never reach a real person, whatever SMTP_URL says.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, as Shopify's country_code
    name: str
    weight: int  # relative share of the shop's customers
    locale: str  # BCP 47, as Shopify's customer_locale
    zones: tuple[tuple[str, str], ...]  # (city, IANA time zone)
    provinces: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    domains: tuple[str, ...]
    phone_prefix: str


COUNTRIES: tuple[Country, ...] = (
    Country("DE", "Germany", 16, "de-DE",
            (("Berlin", "Europe/Berlin"), ("München", "Europe/Berlin"), ("Hamburg", "Europe/Berlin"),
             ("Köln", "Europe/Berlin"), ("Leipzig", "Europe/Berlin")), (),
            ("Lena", "Jonas", "Hannah", "Lukas", "Mia", "Felix", "Anna", "Paul", "Laura", "Maximilian",
             "Sophie", "Tobias", "Katharina", "Jan", "Julia"),
            ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
             "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann"),
            ("gmx.example", "web.example", "posteo.example", "example.com"), "+49"),
    Country("PL", "Poland", 10, "pl-PL",
            (("Warszawa", "Europe/Warsaw"), ("Kraków", "Europe/Warsaw"), ("Gdańsk", "Europe/Warsaw"),
             ("Wrocław", "Europe/Warsaw"), ("Poznań", "Europe/Warsaw")), (),
            ("Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał", "Zofia",
             "Jakub", "Aleksandra", "Krzysztof", "Marta", "Łukasz", "Ewa"),
            ("Nowak", "Kowalczyk", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński",
             "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Piotrowski"),
            ("poczta.example", "example.com", "o2.example"), "+48"),
    Country("FR", "France", 10, "fr-FR",
            (("Paris", "Europe/Paris"), ("Lyon", "Europe/Paris"), ("Grenoble", "Europe/Paris"),
             ("Bordeaux", "Europe/Paris"), ("Annecy", "Europe/Paris")), (),
            ("Camille", "Louis", "Chloé", "Hugo", "Léa", "Gabriel", "Manon", "Arthur", "Inès", "Jules",
             "Sarah", "Théo", "Juliette", "Lucas", "Émilie"),
            ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
             "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia"),
            ("orange.example", "example.com", "laposte.example"), "+33"),
    Country("GB", "United Kingdom", 9, "en-GB",
            (("London", "Europe/London"), ("Manchester", "Europe/London"), ("Edinburgh", "Europe/London"),
             ("Bristol", "Europe/London"), ("Leeds", "Europe/London")), (),
            ("Olivia", "Oliver", "Amelia", "George", "Isla", "Harry", "Emily", "Jack", "Grace", "Charlie",
             "Freya", "Thomas", "Ella", "James", "Poppy"),
            ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
             "Wright", "Thompson", "Evans", "Walker", "White", "Hughes"),
            ("btinternet.example", "example.com", "example.org"), "+44"),
    Country("NL", "Netherlands", 5, "nl-NL",
            (("Amsterdam", "Europe/Amsterdam"), ("Utrecht", "Europe/Amsterdam"), ("Rotterdam", "Europe/Amsterdam")), (),
            ("Emma", "Daan", "Julia", "Sem", "Tess", "Lucas", "Sanne", "Bram", "Fleur", "Thijs"),
            ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"),
            ("ziggo.example", "example.com"), "+31"),
    Country("SE", "Sweden", 4, "sv-SE",
            (("Stockholm", "Europe/Stockholm"), ("Göteborg", "Europe/Stockholm"), ("Umeå", "Europe/Stockholm")), (),
            ("Alice", "Erik", "Maja", "Oscar", "Elsa", "Nils", "Astrid", "Axel", "Ebba", "Lars"),
            ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
             "Svensson", "Lindqvist"),
            ("telia.example", "example.com"), "+46"),
    Country("ES", "Spain", 5, "es-ES",
            (("Madrid", "Europe/Madrid"), ("Barcelona", "Europe/Madrid"), ("Valencia", "Europe/Madrid"),
             ("Las Palmas", "Atlantic/Canary")), (),
            ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Paula", "Daniel", "Carmen", "Alejandro"),
            ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
             "Ruiz"),
            ("correo.example", "example.com"), "+34"),
    Country("IT", "Italy", 5, "it-IT",
            (("Milano", "Europe/Rome"), ("Torino", "Europe/Rome"), ("Bologna", "Europe/Rome"),
             ("Trento", "Europe/Rome")), (),
            ("Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Lorenzo", "Alice", "Matteo", "Chiara",
             "Andrea"),
            ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
            ("libero.example", "example.com"), "+39"),
    Country("AT", "Austria", 3, "de-AT",
            (("Wien", "Europe/Vienna"), ("Innsbruck", "Europe/Vienna"), ("Salzburg", "Europe/Vienna")), (),
            ("Marie", "Elias", "Valentina", "Florian", "Johanna", "Stefan", "Theresa", "Lorenz"),
            ("Gruber", "Huber", "Bauer", "Pichler", "Moser", "Mayer", "Hofer", "Steiner"),
            ("aon.example", "example.com"), "+43"),
    Country("IE", "Ireland", 2, "en-IE",
            (("Dublin", "Europe/Dublin"), ("Galway", "Europe/Dublin"), ("Cork", "Europe/Dublin")), (),
            ("Aoife", "Seán", "Niamh", "Conor", "Siobhán", "Cian", "Ciara", "Darragh"),
            ("Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor"),
            ("eircom.example", "example.com"), "+353"),
    Country("PT", "Portugal", 2, "pt-PT",
            (("Lisboa", "Europe/Lisbon"), ("Porto", "Europe/Lisbon"), ("Funchal", "Atlantic/Madeira")), (),
            ("Beatriz", "João", "Mariana", "Rodrigo", "Inês", "Tiago", "Leonor", "Duarte"),
            ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins"),
            ("sapo.example", "example.com"), "+351"),
    Country("US", "United States", 14, "en-US",
            (("New York", "America/New_York"), ("Boston", "America/New_York"), ("Chicago", "America/Chicago"),
             ("Austin", "America/Chicago"), ("Denver", "America/Denver"), ("Phoenix", "America/Phoenix"),
             ("Seattle", "America/Los_Angeles"), ("San Francisco", "America/Los_Angeles"),
             ("Anchorage", "America/Anchorage")), ("NY", "MA", "IL", "TX", "CO", "AZ", "WA", "CA", "AK"),
            ("Emma", "Liam", "Ava", "Noah", "Madison", "Ethan", "Abigail", "Mason", "Harper", "Logan",
             "Chloe", "Carter", "Riley", "Wyatt", "Zoe"),
            ("Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
             "Moore", "Jackson", "Martin", "Lee", "Harris", "Clark"),
            ("example.com", "example.net", "example.org", "mail.example"), "+1"),
    Country("CA", "Canada", 5, "en-CA",
            (("Toronto", "America/Toronto"), ("Montréal", "America/Toronto"), ("Vancouver", "America/Vancouver"),
             ("Calgary", "America/Edmonton"), ("Halifax", "America/Halifax")), ("ON", "QC", "BC", "AB", "NS"),
            ("Olivia", "Liam", "Charlotte", "Noah", "Amélie", "William", "Emily", "Félix", "Sophie", "Benjamin"),
            ("Tremblay", "Roy", "Gagnon", "Wilson", "MacDonald", "Campbell", "Côté", "Leblanc", "Taylor", "Martin"),
            ("sympatico.example", "example.com"), "+1"),
    Country("MX", "Mexico", 4, "es-MX",
            (("Ciudad de México", "America/Mexico_City"), ("Guadalajara", "America/Mexico_City"),
             ("Monterrey", "America/Monterrey"), ("Tijuana", "America/Tijuana")), ("CMX", "JAL", "NLE", "BCN"),
            ("Sofía", "Santiago", "Valentina", "Mateo", "Regina", "Sebastián", "Ximena", "Diego"),
            ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez"),
            ("correo.example", "example.com"), "+52"),
    Country("BR", "Brazil", 4, "pt-BR",
            (("São Paulo", "America/Sao_Paulo"), ("Rio de Janeiro", "America/Sao_Paulo"),
             ("Curitiba", "America/Sao_Paulo"), ("Manaus", "America/Manaus")), ("SP", "RJ", "PR", "AM"),
            ("Helena", "Miguel", "Alice", "Arthur", "Laura", "Heitor", "Manuela", "Bernardo"),
            ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Carvalho", "Almeida"),
            ("uol.example", "example.com"), "+55"),
    Country("AR", "Argentina", 1, "es-AR",
            (("Buenos Aires", "America/Argentina/Buenos_Aires"), ("Mendoza", "America/Argentina/Mendoza"),
             ("Bariloche", "America/Argentina/Salta")), ("C", "M", "R"),
            ("Martina", "Benjamín", "Catalina", "Joaquín", "Emilia", "Thiago"),
            ("González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz"),
            ("fibertel.example", "example.com"), "+54"),
    Country("CL", "Chile", 1, "es-CL",
            (("Santiago", "America/Santiago"), ("Puerto Montt", "America/Santiago"),
             ("Punta Arenas", "America/Punta_Arenas")), ("RM", "LL", "MA"),
            ("Isidora", "Agustín", "Florencia", "Vicente", "Josefa", "Tomás"),
            ("Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras"),
            ("vtr.example", "example.com"), "+56"),
)

#: Tags for what a customer is into; each customer gets up to two.
INTERESTS = ("hiking", "trail-running", "camping", "climbing", "ski-touring")
#: Where a subscriber signed up, kept with their consent record.
SIGNUP_FORMS = ("footer newsletter form", "checkout: email me news and offers", "10% welcome pop-up")
#: Browsers people confirmed their subscription from (the consent record keeps the user agent).
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
