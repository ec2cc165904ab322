# Legitka — polski. Każdy klucz musi być też w en.ftl (sprawdza to test).

app-name = Legitka
app-lead = Twoja mLegitymacja — zamówiona i aktywowana z telefonu.
loading = Wczytywanie…

## Wybór uczelni
welcome-title = Wybierz swoją uczelnię
welcome-scan = Zeskanuj kod QR Legitki swojej uczelni
welcome-other = Inna uczelnia: adres jej Legitki
welcome-other-help = Na przykład legitka.uczelnia.pl — podają go strony działu IT uczelni. Można też wkleić link legitka://.
welcome-continue = Dalej
welcome-checking = Sprawdzanie…
welcome-address-missing = Wpisz adres Legitki swojej uczelni.
scan-failed = Nie udało się odczytać kodu QR. Spróbuj ponownie albo wpisz adres lub kod.

## Logowanie
sign-in-username = Login uczelniany
sign-in-password = Hasło
sign-in-button = Zaloguj się
sign-in-busy = Logowanie…
sign-in-missing = Wpisz login i hasło.
sign-in-with-code = Zaloguj się kodem parowania
sign-in-with-password = Zaloguj się loginem i hasłem
pair-code = Kod parowania
pair-help = Zaloguj się na stronie Legitki swojej uczelni (/pair) na innym urządzeniu; pokaże kod ważny 5 minut. Wpisz go tutaj albo wklej cały link legitka://.
pair-missing = Wpisz kod parowania.
sign-in-university = Uczelnia
sign-in-change = Zmień
pair-scan = Zeskanuj kod QR parowania
usos-sign-in-help = Twoja uczelnia loguje przez USOS. Otworzy się przeglądarka: zaloguj się tam kontem USOS i zezwól Legitce na dostęp; wrócisz tutaj.
usos-sign-in-button = Zaloguj się przez USOS
usos-waiting = Dokończ logowanie w przeglądarce. Jeśli Legitka nie otworzy się sama, wpisz kod widoczny na stronie.
usos-pair-help = Strona, na którą trafisz po zalogowaniu w USOS, pokaże kod ważny 5 minut. Wpisz go tutaj albo wklej cały link legitka://.
usos-sign-in-again = Otwórz ponownie logowanie przez USOS

## Ekran główny
home-signed-in-as = Zalogowano jako
home-album = Nr albumu { $album }
home-settings = Ustawienia
home-offline = Brak połączenia — łączymy ponownie. Status zaktualizuje się sam.
home-updated = Ostatnia aktualizacja { $minutes ->
    [0] przed chwilą
    [one] { $minutes } minutę temu
    [few] { $minutes } minuty temu
   *[many] { $minutes } minut temu
}.
home-usos-checked = USOS sprawdzony { $minutes ->
    [0] przed chwilą
    [one] { $minutes } minutę temu
    [few] { $minutes } minuty temu
   *[many] { $minutes } minut temu
}; Legitka sprawdza dalej sama.
home-actions-offline = Te działania wymagają połączenia z serwerem uczelni.
home-no-keystore = To urządzenie nie ma bezpiecznego magazynu kluczy, więc następnym razem trzeba będzie zalogować się ponownie.
home-card = mLegitymacja
home-order = Zamów mLegitymację
home-renew = Odnów na nowy semestr
home-ordering = Zamawianie…
card-preview-title = Co pokaże Twoja mLegitymacja
card-name = Imię i nazwisko
card-birth-date = Data urodzenia
card-pesel = PESEL
card-album = Numer albumu
card-els = Numer legitymacji (ELS)
card-valid-until = Ważna do
card-university = Uczelnia
card-photo = Zdjęcie
card-photo-yes = jest
card-photo-no = brak
card-photo-alt = Twoje zdjęcie, takie jak na legitymacji
card-none = brak
card-wrong = Coś się nie zgadza? Popraw to w dziekanacie; legitymacja pokaże to, co jest w systemie uczelni.
home-terms = Potwierdzam, że moje dane w systemie uczelni są poprawne, i chcę otrzymać mLegitymację w mObywatelu na tym telefonie.
home-checks-ok = Spełniasz wszystkie wymagania
home-checks-missing = Czego jeszcze brakuje
home-university-says = Uczelnia podaje, że nie możesz jeszcze zamówić
home-check-done = spełnione
home-check-missing = brak
home-valid-until = Ważna do { $date }.
home-timeline = Historia

## Etapy zamówienia
step-ordered = Zamówiona
# A soft hyphen: the four steps fit one row on a narrow phone.
step-preparing = W przygo{"\u00AD"}towaniu
step-ready = Gotowa
step-active = Aktywna

## Wyświetlenie kodów
reveal-warning = Kody można wyświetlić łącznie 3 razy: { $left ->
    [one] zostało { $left } wyświetlenie
    [few] zostały { $left } wyświetlenia
   *[many] zostało { $left } wyświetleń
}.
reveal-expires = Są ważne do { $date }.
codes-emailed = Uczelnia wysłała też kody na Twój uczelniany adres e-mail; zużyło to jedno wyświetlenie. Zeskanuj kod QR z tej wiadomości na ekranie komputera albo pokaż kody tutaj.
reveal-button = Pokaż kody aktywacyjne
second-screen-button = Pokaż kod QR na komputerze
second-screen-go = Na komputerze otwórz { $address } i wpisz ten kod:
second-screen-note = Ważny do { $time }, jednorazowo. Pokazanie kodów tam zużywa jedno z 3 wyświetleń; zeskanuj QR mObywatelem na tym telefonie.
reveal-spent = Kody wyświetlono już trzy razy. Jeśli mObywatel ich nie przyjął, zamów ponownie.

## Ekran z kodami
codes-title = Twoje kody aktywacyjne
codes-done = Gotowe
codes-left = { $left ->
    [one] Zostało { $left } wyświetlenie
    [few] Zostały { $left } wyświetlenia
   *[many] Zostało { $left } wyświetleń
}. Ważne do { $date }.
codes-qr-label = Kod QR dla mObywatela (zeskanuj go innym urządzeniem)
codes-manual = Kod do wpisania ręcznie
codes-activation = Kod aktywacyjny
codes-copy = Kopiuj
codes-copied = Skopiowano
codes-open-mobywatel = Otwórz mObywatela
codes-in-mobywatel = W mObywatelu
help-title = Pomoc
help-contact = Pytania o mLegitymację: { $contact }
help-terms = Zasady uczelni: { $url }
mobywatel-steps-first = Co zrobisz w mObywatelu
mobywatel-install = Potrzebujesz mObywatela, zainstalowanego i aktualnego, zalogowanego na tym telefonie (mObywatel działa tylko z numerem PESEL).
mobywatel-step-1 = Otwórz mObywatela i dotknij „+” (Dodaj dokument).
mobywatel-step-2 = Wybierz „Legitymacja studencka” i zaakceptuj regulamin.
mobywatel-step-3 = Gdy pojawi się prośba o kod QR, wybierz wpisanie kodu.
mobywatel-step-4 = Wklej kod do wpisania ręcznie.
mobywatel-step-5 = Wklej kod aktywacyjny i dotknij „Aktywuj”.
mobywatel-step-6 = mLegitymacja pojawi się w aplikacji; Legitka pokaże ją jako aktywną.

## Działania na zamówieniu
action-cancel = Anuluj zamówienie
action-cancel-confirm = Anulować to zamówienie? Możesz zamówić ponownie później.
action-revoke = Unieważnij mLegitymację
action-revoke-confirm = Unieważnić mLegitymację? Może działać jeszcze do 24 godzin.
action-revoked-until = Unieważniono. Może działać jeszcze do { $date }.
action-resubmit = Wyślij zamówienie ponownie
action-replace = Zgubiony telefon: nowe kody
action-replace-confirm = Wygenerować nowe kody na nowy telefon? Legitymacja na starym telefonie przestanie działać.
action-confirm = Tak, dalej
action-back = Nie, wróć

## Ustawienia
settings-title = Ustawienia
settings-language = Język
settings-theme = Wygląd
theme-system = Jak w systemie
theme-light = Jasny
theme-dark = Ciemny
settings-notifications = Powiadomienia o moim zamówieniu
settings-sign-out = Wyloguj się
settings-about = O aplikacji
settings-about-text = Legitka { $version }. Wolne oprogramowanie (MIT lub Apache-2.0). Korzysta z Tauri, Yew i innych bibliotek open source na ich licencjach.
settings-licences = Licencje open source ({ $count ->
    [one] { $count } biblioteka
    [few] { $count } biblioteki
   *[many] { $count } bibliotek
})
settings-licence-texts = Pokaż treść licencji
settings-licence-texts-failed = Nie udało się wczytać treści licencji.
settings-back = Wróć

## Statusy
usosweb-pending = W USOSweb: „Oczekuje”.
usosweb-in_progress = W USOSweb: „W trakcie”.
usosweb-ready = W USOSweb: „Do odbioru”.
usosweb-received = W USOSweb: „Odebrana”.
status-none = Jeszcze nie zamówiona
status-pending = Zamówienie przyjęte
status-in_progress = W przygotowaniu
status-ready = Gotowa do aktywacji
status-received = Aktywna w mObywatelu
status-returned_for_correction = Cofnięte do poprawy
status-error = Błąd wydania
status-cancelled = Anulowane
status-revoked = Unieważniona
status-expired = Wygasła

hint-none = Zamów mobilną legitymację stąd: potwierdź dane i dotknij „Zamów”.
hint-none-not-yet = Gdy wszystko, co wymieniono niżej, będzie w porządku, złożysz tu zamówienie.
hint-pending = Uczelnia ma Twoje zamówienie i przekazuje je dalej.
hint-in_progress = mObywatel przygotowuje legitymację. To może potrwać od kilku sekund do około godziny — damy znać.
hint-ready = Pokaż kody i wpisz je w mObywatelu.
hint-received = Twoja mLegitymacja jest w mObywatelu. Wszystko gotowe.
hint-returned_for_correction = Popraw, co trzeba, i wyślij zamówienie ponownie.
hint-error = Nie udało się zrealizować zamówienia. Możesz zamówić ponownie.
hint-cancelled = Anulowano to zamówienie. Możesz zamówić ponownie.
hint-revoked = Ta mLegitymacja została unieważniona. Możesz zamówić nową.
hint-expired = To zamówienie wygasło. Możesz zamówić ponownie.

## Powody
reason-reveal_limit_reached = Kody wyświetlono trzy razy bez aktywacji.
reason-activation_expired = Kody nie zostały użyte w ciągu 30 dni.
reason-card_expired = Ważność legitymacji skończyła się razem z ELS.
reason-renewed = Odnowiona na nowy semestr.
reason-lost_phone = Zastąpiona po zgubieniu telefonu.
reason-student_removed = Nie ma Cię już na liście studentów.
reason-issuer_error = System mObywatel zgłosił błąd.
reason-photo_rejected = Zdjęcie nie spełnia wymagań. Dodaj nowe w USOSweb.
reason-data_mismatch = Twoje dane nie zgadzają się z rejestrami państwowymi. Zapytaj w dziekanacie.
reason-sign_in_again = System uczelni wymaga ponownego zalogowania.

## Lista wymagań
check-active_student = Aktywny status studenta
check-active_student-fix = Twój status studenta nie jest aktywny. Zapytaj w dziekanacie.
check-has_pesel = Numer PESEL
check-has_pesel-fix = mLegitymacja wymaga numeru PESEL (mObywatel działa tylko z nim). Jeśli go masz, przynieś dokument do dziekanatu; jeśli nie, Twoją legitymacją jest plastikowa ELS.
check-has_album_number = Numer albumu
check-has_album_number-fix = Nie masz jeszcze numeru albumu. Zapytaj w dziekanacie.
check-has_photo = Zdjęcie w systemie uczelni
check-has_photo-fix = Dodaj zdjęcie w USOSweb albo w dziekanacie.
check-has_els = Plastikowa legitymacja (ELS)
check-has_els-fix = Najpierw potrzebujesz plastikowej legitymacji. Zamów ją w dziekanacie.
check-els_valid = Legitymacja przedłużona w tym semestrze
check-els_valid-fix = Przedłuż plastikową legitymację (hologram na nowy semestr) w dziekanacie.
check-data_unchanged_since_els = Dane osobowe bez zmian od wydania legitymacji
check-data_unchanged_since_els-fix = Twoje dane zmieniły się od wydania legitymacji. Poproś w dziekanacie o duplikat.
check-study_level = Studia pierwszego, drugiego stopnia lub jednolite magisterskie
check-study_level-fix = mLegitymacja jest dla studentów studiów pierwszego i drugiego stopnia oraz jednolitych magisterskich.

## Błędy
error-bad_request = Coś w formularzu się nie zgadza. Sprawdź i spróbuj ponownie.
error-invalid_credentials = Zły login lub hasło. Użyj konta uczelnianego, jak do USOSweb.
error-invalid_pairing_code = Ten kod parowania jest błędny, już użyty albo starszy niż 5 minut. Weź nowy na stronie parowania uczelni.
error-unauthorized = Sesja wygasła. Zaloguj się ponownie.
error-not_found = Serwer uczelni nie zna tego żądania. Może wymagać aktualizacji.
error-not_eligible = Nie możesz jeszcze zamówić mLegitymacji. Lista wymagań pokazuje, czego brakuje.
error-order_exists = Masz już zamówienie w toku.
error-no_order = Nie masz jeszcze zamówienia.
error-not_ready = mLegitymacja nie jest jeszcze gotowa. Damy znać, gdy tylko będzie.
error-invalid_transition = Ten krok nie jest już możliwy dla Twojego zamówienia.
error-reveal_limit_reached = Kody wyświetlono już trzy razy. Zamów mLegitymację ponownie, aby dostać nowe.
error-activation_expired = Te kody wygasły (są ważne 30 dni). Zamów mLegitymację ponownie.
error-invalid_activation_code = Kod albo kod aktywacyjny jest nieprawidłowy.
error-already_activated = Ta mLegitymacja została już aktywowana.
error-rate_limited = Zbyt wiele prób. Odczekaj minutę i spróbuj ponownie.
error-internal = Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.
error-server_unreachable = Brak połączenia z serwerem uczelni. Sprawdź internet i adres serwera.
error-bad_response = Serwer uczelni odpowiedział w niezrozumiały sposób. Sprawdź adres serwera.
error-university_unavailable = System uczelni (USOS) nie odpowiada. Spróbuj ponownie za kilka minut.
error-university_sign_in_needed = USOS wymaga ponownego zalogowania.
error-not_offered = Twoja uczelnia nie udostępnia mLegitymacji przez USOS API. Zamów ją w USOSweb.
error-too_large = Tego jest więcej, niż serwer przyjmuje. Zaktualizuj aplikację.
error-unsupported_media_type = Aplikacja wysłała coś, czego serwer nie rozumie. Zaktualizuj aplikację.
error-method_not_allowed = Aplikacja poprosiła serwer o coś, czego on nie robi. Zaktualizuj aplikację.
error-busy = Serwer uczelni jest teraz zajęty. Spróbuj ponownie za chwilę.
error-device_in_use = Powiadomienia na tym telefonie trafiają do innej zalogowanej osoby. Najpierw ją wyloguj albo zaloguj się na swoim telefonie.

switch-title = Zmienić uczelnię?
switch-body = Ten link prowadzi do: { $new } ({ $address }). Legitka jest ustawiona na: { $current }.
switch-signed-in = Zmiana wyloguje Cię z: { $current }. Twoje zamówienie tam zostanie bez zmian.
switch-yes = Przejdź do: { $new }
switch-no = Zostań przy: { $current }

notices-ask = Dostań powiadomienie, gdy tylko Twoja mLegitymacja będzie gotowa, bez trzymania Legitki otwartej. Telefon zapyta o zgodę na powiadomienia.
notices-turn-on = Włącz powiadomienia
notices-not-now = Nie teraz
notices-off = Powiadomienia Legitki są wyłączone: nowości zobaczysz dopiero po otwarciu aplikacji. Aby je włączyć, otwórz ustawienia telefonu dla Legitki (Powiadomienia).
notices-ok = OK
scan-camera-off = Legitka nie ma dostępu do aparatu. Zezwól na niego w ustawieniach telefonu dla Legitki (Uprawnienia, Aparat) albo wpisz adres lub kod.

error-not_in_register = Nie ma Cię w rejestrze studentów uczelni. Jeśli tu studiujesz, poproś dziekanat o sprawdzenie Twoich danych.
error-account_locked = Uczelnia zablokowała to konto. Odblokuje je uczelniany dział IT.
error-sign_in_unavailable = Logowanie uczelni nie odpowiada. Spróbuj za kilka minut.

sso-sign-in-help = Uczelnia loguje Cię na swojej stronie. Otworzy się przeglądarka: zaloguj się tam kontem uczelnianym, a wrócisz tutaj.
sso-sign-in-button = Zaloguj się kontem uczelnianym
sso-waiting = Dokończ logowanie w przeglądarce. Jeśli Legitka nie otworzy się sama, wpisz kod ze strony.
sso-pair-help = Strona, na którą trafisz po zalogowaniu, pokaże kod ważny 5 minut. Wpisz go tutaj albo wklej cały link legitka://.
sso-sign-in-again = Otwórz ponownie logowanie uczelni
