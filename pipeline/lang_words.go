package pipeline

import "github.com/abadojack/whatlanggo"

// The detector returns one of the languages below, or for a script that
// only one language uses (Greek, Georgian, Korean, Japanese, Chinese and
// others) the language whatlanggo v1.0.1 names for that script.
//
// The list is the partner languages (English, Polish, French,
// Lithuanian, German), their neighbours and the languages of the
// network's trading partners and migrant workforces. These are the EU
// languages whatlanggo has profiles for, and Norwegian Bokmål and Turkish.
// In Cyrillic they are Russian, Ukrainian, Belarusian, Bulgarian, Serbian
// and Macedonian. In other scripts they are Arabic, Urdu, Persian, Hindi,
// Marathi, Nepali, Hebrew, Yiddish, Amharic and Tigrinya. Slovak has no whatlanggo
// profile and is recognised by its letters and function words alone.
//
// whatlanggo's other profiles (Esperanto, Afrikaans, Tagalog, Javanese,
// Zulu, Shona and about twenty more Latin-script languages) are left out.
// On short partner texts they won often: whatlanggo alone labelled
// English titles as Danish or Spanish and Lithuanian sentences as
// Portuguese or Esperanto. A text in a left-out language comes out as its
// nearest listed language, usually below the override confidence, so the
// declared language stands.

// latinAlphabets lists, for each Latin-script language, the letters beyond
// a to z that its ordinary spelling uses. A text whose lower-case words
// use a letter outside a language's set is taken not to be in that
// language. Capitalised words are skipped because they are often names
// ("Gdańsk" in an English sentence).
//
// NOTE: English has no letters here, so a lower-case loanword such as
// "café" rules English out, and the guess falls to a language that uses
// é, usually below minDetectConfidence.
var latinAlphabets = map[string]string{
	"en": "",
	"de": "äöüß",
	"fr": "àâæçéèêëîïôœùûüÿ",
	"pl": "ąćęłńóśźż",
	"lt": "ąčęėįšųūž",
	"lv": "āčēģīķļņšūž",
	"et": "äöõüšž",
	"fi": "äöåšž",
	"sv": "åäöé",
	"da": "æøåé",
	"nb": "æøåéòô",
	"nl": "éëïóöèáü",
	"es": "áéíóúñü",
	"pt": "áâãàçéêíóôõúü",
	"it": "àèéìíòóùúî",
	"cs": "áčďéěíňóřšťúůýž",
	"sk": "áäčďéíĺľňóôŕšťúýž",
	"hu": "áéíóöőúüű",
	"ro": "ăâîșțşţ",
	"sl": "čšžćđ",
	"hr": "čćđšž",
	"tr": "çğıöşüâîû",
}

// cyrillicAlphabets lists the whole lower-case alphabet of each
// Cyrillic-script language, because these languages differ as much by
// the letters they lack (Ukrainian has no ы, Belarusian no и) as by the
// ones they add.
var cyrillicAlphabets = map[string]string{
	"ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
	"uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
	"be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
	"bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
	"sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
	"mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
}

// functionWords lists, per language, frequent short words of news prose:
// articles, prepositions, conjunctions and auxiliaries, written for this
// detector. A word may be listed under several languages, and only the
// difference in counts decides. A word with an apostrophe ("l'") matches
// the elided form at the start of a longer word.
var functionWords = map[string]string{
	"en": "the of and to in for with from on at by is are was will be has have its their this that " +
		"a an new year more than after into over our about which who it as all been were can also " +
		"not but or up out two first one",
	"de": "der die das und für mit von zu zum zur im in den dem des ein eine einen einem ist sind " +
		"wird werden auf bei aus nach über sich auch nicht neue neuen neues mehr als vom am um wie " +
		"durch pro es an oder aber noch wurde wurden hat haben vor bis sowie seit unter zwei ihre " +
		"ihren sie er wir unsere dass",
	"fr": "le la les des du de et pour dans sur une un au aux par avec est sont qui que en ce cette " +
		"ses leur nouveau nouvelle nouvelles plus à l' d' qu' ont sera son sa il elle ils a ne pas " +
		"mais ou entre après été leurs deux nos notre vers chez",
	"pl": "w z na i do dla się oraz jest są od o że po przez nie to ze we za jak które który która " +
		"roku ich jego co tym już przy nowe nowy nowych będzie a lub ale tak ten ta także również " +
		"między pod nad też było był była swoje swoich dwa u",
	"lt": "ir į su iš kad per dėl bei yra bus nuo iki po prie tai jų jo kaip ar o taip pat savo metų " +
		"buvo kurie kuri šių apie tarp dar kai tik nes mūsų jau nors visi visų dvi du pagal būti gali",
	"lv": "un ir ar no uz par kas ka lai arī tiek pie pēc līdz gadā jau vai bet kā šī šo būs",
	"et": "ja on ei et see mis kui ka oma või ning aga nii selle ta nad kes koos üle aasta pärast",
	"fi": "ja on ei että se joka ovat oli myös kanssa mukaan sekä kun tai mutta vuoden hän he jo yli",
	"sv": "och att i är som för på med av till en ett det den de om har inte från vid nya under " +
		"efter sina sin",
	"da": "og at i er som for på med af til en et det den de om har ikke fra ved nye efter sine sin " +
		"vil blev kan også",
	"nb": "og å i er som for på med av til en et det den de om har ikke fra ved nye etter sine sin " +
		"vil ble kan også",
	"nl": "de het een en van in is op te voor met zijn aan dat die niet om door bij ook naar uit " +
		"over worden wordt nieuwe deze als tot jaar",
	"es": "el la los las de del y en que por para con una un es se al su sus más como este esta " +
		"sobre entre ha han año",
	"pt": "o a os as de do da dos das e em no na nos nas que para com uma um é por pelo pela ao " +
		"mais sua seu como não foi são ano",
	"it": "il lo la i gli le di del della dei delle e è in che per con una un da al alla nel nella " +
		"su sono anche più non come anno l' dell' all' nell'",
	"cs": "a v ve na se je z ze do pro s k o od po za že jako které který která jsou bude by i " +
		"také při jejich roku nové nový",
	"sk": "a v vo na sa je z zo do pre s k o od po za že ako ktoré ktorý ktorá sú bude by aj tiež " +
		"pri ich roku nové nový",
	"hu": "a az és hogy nem is egy meg van volt ki be el csak mint már vagy de után között szerint " +
		"évben új",
	"ro": "și în de la cu pe din a al ale o un care că este sunt pentru mai prin sau fost nu se " +
		"după anul noi",
	"sl": "in je v na za z s se da so pa ki bo tudi ali od do po pri kot še le bi leta nove",
	"hr": "i je u na za s sa se da su a ali od do po pri kao će koji koja koje biti bi godine iz " +
		"nove te",
	"tr": "ve bir bu da de için ile olarak daha çok gibi olan en ne mi ama yeni yılı sonra kadar her",
	"ru": "и в на с по для что не из к о от до за это как а также будет его их при после",
	"uk": "і в у на з що для не до від та як це також буде його їх при після",
	"be": "і у на з для што не да ад як гэта таксама будзе яго іх пры пасля",
	"bg": "и в на за с от да че се е по към са ще като след при това",
	"sr": "и у на за са од да је се су ће као после при то",
	"mk": "и во на за со од да е се ќе како по при тоа",
}

// trigramProfiles maps the languages above to whatlanggo's profiles.
// Slovak has none.
var trigramProfiles = map[string]whatlanggo.Lang{
	"en": whatlanggo.Eng, "de": whatlanggo.Deu, "fr": whatlanggo.Fra, "pl": whatlanggo.Pol,
	"lt": whatlanggo.Lit, "lv": whatlanggo.Lav, "et": whatlanggo.Est, "fi": whatlanggo.Fin,
	"sv": whatlanggo.Swe, "da": whatlanggo.Dan, "nb": whatlanggo.Nob, "nl": whatlanggo.Nld,
	"es": whatlanggo.Spa, "pt": whatlanggo.Por, "it": whatlanggo.Ita, "cs": whatlanggo.Ces,
	"hu": whatlanggo.Hun, "ro": whatlanggo.Ron, "sl": whatlanggo.Slv, "hr": whatlanggo.Hrv,
	"tr": whatlanggo.Tur,
	"ru": whatlanggo.Rus, "uk": whatlanggo.Ukr, "be": whatlanggo.Bel, "bg": whatlanggo.Bul,
	"sr": whatlanggo.Srp, "mk": whatlanggo.Mkd,
}

// otherScriptLanguages is the whatlanggo whitelist for scripts other
// than Latin and Cyrillic that several whatlanggo languages share:
// Arabic, Devanagari, Hebrew and Ethiopic.
var otherScriptLanguages = whatlanggo.Options{Whitelist: map[whatlanggo.Lang]bool{
	whatlanggo.Arb: true, whatlanggo.Urd: true, whatlanggo.Pes: true,
	whatlanggo.Hin: true, whatlanggo.Mar: true, whatlanggo.Nep: true,
	whatlanggo.Heb: true, whatlanggo.Ydd: true,
	whatlanggo.Amh: true, whatlanggo.Tir: true,
}}
