# Legitka — English. Every key here must also be in pl.ftl (a test checks).

app-name = Legitka
app-lead = Your mLegitymacja, ordered and activated from your phone.
loading = Loading…

## Choosing the university
welcome-title = Choose your university
welcome-scan = Scan your university's Legitka QR code
welcome-other = Another university: its Legitka address
welcome-other-help = For example legitka.uczelnia.pl — your university's IT pages give it. A pasted legitka:// link works too.
welcome-continue = Continue
welcome-checking = Checking…
welcome-address-missing = Enter your university's Legitka address.
scan-failed = The QR code could not be read. Try again, or type the address or code.

## Sign-in
sign-in-username = University username
sign-in-password = Password
sign-in-button = Sign in
sign-in-busy = Signing in…
sign-in-missing = Enter your username and password.
sign-in-with-code = Sign in with a pairing code
sign-in-with-password = Sign in with username and password
pair-code = Pairing code
pair-help = Sign in on your university's Legitka page (/pair) on another device; it shows a code valid for 5 minutes. Type it here, or paste the whole legitka:// link.
pair-missing = Enter the pairing code.
sign-in-university = University
sign-in-change = Change
pair-scan = Scan the pairing QR code
usos-sign-in-help = Your university signs you in through USOS. The browser opens: sign in there with your USOS account and allow Legitka; it brings you back here.
usos-sign-in-button = Sign in with USOS
usos-waiting = Finish signing in in the browser. If Legitka does not open by itself, type the code the page shows.
usos-pair-help = The page you reach after signing in to USOS shows a code valid for 5 minutes. Type it here, or paste the whole legitka:// link.
usos-sign-in-again = Open the USOS sign-in again

## Home
home-signed-in-as = Signed in as
home-album = Album no. { $album }
home-settings = Settings
home-offline = Offline — reconnecting. Your status will update by itself.
home-updated = Last updated { $minutes ->
    [0] less than a minute ago
    [one] { $minutes } minute ago
   *[other] { $minutes } minutes ago
}.
home-usos-checked = USOS last checked { $minutes ->
    [0] less than a minute ago
    [one] { $minutes } minute ago
   *[other] { $minutes } minutes ago
}; Legitka keeps checking by itself.
home-actions-offline = Actions need a connection to the university server.
home-no-keystore = This device has no secure keystore, so you will need to sign in again next time.
home-card = mLegitymacja
home-order = Order mLegitymacja
home-renew = Renew for the new semester
home-ordering = Ordering…
card-preview-title = What your mLegitymacja will show
card-name = Name
card-birth-date = Date of birth
card-pesel = PESEL
card-album = Student number
card-els = Student ID (ELS) number
card-valid-until = Valid until
card-university = University
card-photo = Photo
card-photo-yes = on file
card-photo-no = missing
card-photo-alt = Your photo, as the card will show it
card-none = none
card-wrong = Something wrong? Your dean's office corrects it in the university's records; the card shows what is there.
home-terms = I confirm my data in the university registry is correct and I want my mLegitymacja issued to mObywatel on this phone.
home-checks-ok = You meet every requirement
home-checks-missing = What you still need
home-university-says = Your university says you can't order yet
home-check-done = done
home-check-missing = missing
home-valid-until = Valid until { $date }.
home-timeline = History

## Steps of an order
step-ordered = Ordered
step-preparing = Being prepared
step-ready = Ready
step-active = Active

## Reveal
reveal-warning = The codes can be shown 3 times in all: { $left ->
    [one] { $left } view left
   *[other] { $left } views left
}.
reveal-expires = They work until { $date }.
codes-emailed = Your university also e-mailed the codes to your university address; that used one view. Scan the QR code in that e-mail from a computer screen, or show them here.
reveal-button = Show activation codes
second-screen-button = Show the QR code on a computer
second-screen-go = On a computer, open { $address } and type this code:
second-screen-note = Valid until { $time }, once. Showing the codes there uses one of the 3 views; scan the QR with mObywatel on this phone.
reveal-spent = The codes were shown three times. If mObywatel did not accept them, order again.

## Ready screen
codes-title = Your activation codes
codes-done = Done
codes-left = { $left ->
    [one] { $left } view left
   *[other] { $left } views left
}. Valid until { $date }.
codes-qr-label = QR code for mObywatel (scan it from another device)
codes-manual = Code for manual entry
codes-activation = Activation code
codes-copy = Copy
codes-copied = Copied
codes-open-mobywatel = Open mObywatel
codes-in-mobywatel = In mObywatel
help-title = Help
help-contact = Questions about mLegitymacja: { $contact }
help-terms = The university's rules: { $url }
mobywatel-steps-first = What you will do in mObywatel
mobywatel-install = You need mObywatel, installed and up to date, signed in on this phone (mObywatel works only with a PESEL).
mobywatel-step-1 = Open mObywatel and tap “+” (Add document).
mobywatel-step-2 = Choose “Legitymacja studencka” and accept the terms.
mobywatel-step-3 = When asked for the QR code, choose to type the code instead.
mobywatel-step-4 = Paste the code for manual entry.
mobywatel-step-5 = Paste the activation code and tap “Aktywuj”.
mobywatel-step-6 = Your mLegitymacja appears; Legitka shows it as active.

## Order actions
action-cancel = Cancel order
action-cancel-confirm = Cancel this order? You can order again later.
action-revoke = Revoke mLegitymacja
action-revoke-confirm = Revoke your mLegitymacja? It may keep working for up to 24 hours.
action-revoked-until = Revoked. It may keep working until { $date }.
action-resubmit = Send the order again
action-replace = Lost phone: new codes
action-replace-confirm = Get new codes for a new phone? The card on the old phone stops working.
action-confirm = Yes, continue
action-back = No, go back

## Settings
settings-title = Settings
settings-language = Language
settings-theme = Appearance
theme-system = Like the system
theme-light = Light
theme-dark = Dark
settings-notifications = Notifications about my order
settings-sign-out = Sign out
settings-about = About
settings-about-text = Legitka { $version }. Free software (MIT or Apache-2.0). Uses Tauri, Yew and other open-source libraries under their licences.
settings-licences = Open-source licences ({ $count ->
    [one] { $count } library
   *[other] { $count } libraries
})
settings-licence-texts = Show the licence texts
settings-licence-texts-failed = The licence texts could not be read.
settings-back = Back

## Statuses
usosweb-pending = In USOSweb: “Oczekuje”.
usosweb-in_progress = In USOSweb: “W trakcie”.
usosweb-ready = In USOSweb: “Do odbioru”.
usosweb-received = In USOSweb: “Odebrana”.
status-none = Not ordered yet
status-pending = Order received
status-in_progress = Being prepared
status-ready = Ready to activate
status-received = Active in mObywatel
status-returned_for_correction = Returned for correction
status-error = Issuing failed
status-cancelled = Cancelled
status-revoked = Revoked
status-expired = Expired

hint-none = Order your mobile student ID from here: confirm your data and tap Order.
hint-none-not-yet = You can order once what is listed below is in order.
hint-pending = The university has your order and is passing it on.
hint-in_progress = mObywatel is preparing your card. This can take from seconds to about an hour — we'll notify you.
hint-ready = Show the codes and enter them in mObywatel.
hint-received = Your mLegitymacja is in mObywatel. You're all set.
hint-returned_for_correction = Correct what is needed and send the order again.
hint-error = The order could not be completed. You can order again.
hint-cancelled = You cancelled this order. You can order again.
hint-revoked = This mLegitymacja was revoked. You can order a new one.
hint-expired = This order expired. You can order again.

## Reasons
reason-reveal_limit_reached = The codes were shown three times without activation.
reason-activation_expired = The codes were not used within 30 days.
reason-card_expired = The card's validity ended with your student ID.
reason-renewed = Renewed for the new semester.
reason-lost_phone = Replaced after a lost phone.
reason-student_removed = You are no longer on the student list.
reason-issuer_error = The mObywatel system reported an error.
reason-photo_rejected = Your photo does not meet the requirements. Add a new one in USOSweb.
reason-data_mismatch = Your data does not match the state registers. Ask your dean's office.
reason-sign_in_again = Your university's system needs you to sign in again.

## Eligibility checklist
check-active_student = Active student status
check-active_student-fix = Your student status is not active. Ask your dean's office.
check-has_pesel = PESEL number
check-has_pesel-fix = mLegitymacja needs a PESEL (mObywatel works only with one). If you have one, bring your ID to the dean's office; if not, your plastic student ID (ELS) is your student ID.
check-has_album_number = Album number
check-has_album_number-fix = You have no album number yet. Ask your dean's office.
check-has_photo = Photo in the university registry
check-has_photo-fix = Add your photo in USOSweb or at the dean's office.
check-has_els = Plastic student ID (ELS)
check-has_els-fix = You need a plastic student ID first. Order it at the dean's office.
check-els_valid = Student ID extended this semester
check-els_valid-fix = Extend your plastic student ID (new semester sticker) at the dean's office.
check-data_unchanged_since_els = Personal data unchanged since the ID was issued
check-data_unchanged_since_els-fix = Your data changed since the ID was issued. Ask for a duplicate at the dean's office.
check-study_level = First-cycle, second-cycle or long-cycle studies
check-study_level-fix = mLegitymacja is for first-cycle, second-cycle and long-cycle master's students.

## Errors
error-bad_request = Something in the form is not right. Check it and try again.
error-invalid_credentials = Wrong username or password. Use your university account, as for USOSweb.
error-invalid_pairing_code = This pairing code is wrong, already used or older than 5 minutes. Get a new one on your university's pairing page.
error-unauthorized = Your session has ended. Please sign in again.
error-not_found = The university server does not know this request. It may need an update.
error-not_eligible = You can't order an mLegitymacja yet. The checklist shows what is missing.
error-order_exists = You already have an order in progress.
error-no_order = You have no order yet.
error-not_ready = Your mLegitymacja is not ready yet. We'll tell you the moment it is.
error-invalid_transition = This step is no longer possible for your order.
error-reveal_limit_reached = The codes were already shown three times. Order your mLegitymacja again to get new ones.
error-activation_expired = These codes have expired (they last 30 days). Order your mLegitymacja again.
error-invalid_activation_code = The code or the activation code is not right.
error-already_activated = This mLegitymacja has already been activated.
error-rate_limited = Too many attempts. Wait a minute and try again.
error-internal = Something went wrong on our side. Please try again in a moment.
error-server_unreachable = Can't reach the university server. Check your internet connection and the server address.
error-bad_response = The university server gave an answer we don't understand. Check the server address.
error-university_unavailable = Your university's system (USOS) is not answering. Try again in a few minutes.
error-university_sign_in_needed = USOS needs you to sign in again.
error-not_offered = Your university does not offer mLegitymacja through its USOS API. Order it in USOSweb.
error-too_large = That was more than the server takes. Update the app.
error-unsupported_media_type = The app sent something the server does not understand. Update the app.
error-method_not_allowed = The app asked the server for something it does not do. Update the app.
error-busy = The university server is busy right now. Try again in a moment.
error-device_in_use = Notices on this phone go to another student who is signed in here. Sign them out first, or sign in on your own phone.

switch-title = Switch university?
switch-body = This link is for { $new } at { $address }. Legitka is set up for { $current }.
switch-signed-in = Switching signs you out of { $current }. Your order there stays as it is.
switch-yes = Switch to { $new }
switch-no = Stay with { $current }

notices-ask = Get a notice the moment your mLegitymacja is ready, without keeping Legitka open. Your phone will ask you to allow notifications.
notices-turn-on = Turn on notices
notices-not-now = Not now
notices-off = Notifications are off for Legitka: you will see news only when you open the app. To turn them on, open your phone's settings for Legitka (Notifications).
notices-ok = OK
scan-camera-off = Legitka may not use the camera. Allow it in your phone's settings for Legitka (Permissions, Camera), or type the address or code.

error-not_in_register = You are not in your university's student register. If you study there, ask the dean's office to check your record.
error-account_locked = Your university has locked this account. Its IT helpdesk can unlock it.
error-sign_in_unavailable = Your university's sign-in is not answering. Try again in a few minutes.

sso-sign-in-help = Your university signs you in on its own page. The browser opens: sign in there with your university account; it brings you back here.
sso-sign-in-button = Sign in with your university account
sso-waiting = Finish signing in in the browser. If Legitka does not open by itself, type the code the page shows.
sso-pair-help = The page you reach after signing in shows a code valid for 5 minutes. Type it here, or paste the whole legitka:// link.
sso-sign-in-again = Open the university's sign-in again
