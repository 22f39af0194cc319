package web

// siteStyle is the one stylesheet of every page, served at /style.css
// with a year's cache lifetime under a versioned URL (styleVersion). One
// column on a phone, two from 700 px; light and dark after the reader's
// system (prefers-color-scheme); colours chosen for WCAG AA contrast (text
// at least 4.5:1 on its background in both schemes); images of a fixed box
// (their width and height are in the markup too, so nothing moves as they
// load).
const siteStyle = `:root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#555;--line:#ddd;--link:#0645ad;--visited:#5a3696;--card:#f7f7f5;--bar:#3a6ea5}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#e8e8e8;--muted:#b0b0b0;--line:#333;--link:#8ab4f8;--visited:#c58af9;--card:#1c1c1c;--bar:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}a:visited{color:var(--visited)}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;border-bottom:1px solid var(--line)}
.site{font-weight:700;font-size:1.25rem;text-decoration:none;color:var(--fg)}
.search{display:flex;gap:.4rem;flex:1 1 16rem;max-width:28rem}
.search input{flex:1;min-width:0;font:inherit;padding:.35rem .5rem;border:1px solid var(--muted);border-radius:4px;background:var(--bg);color:var(--fg)}
.search button{font:inherit;padding:.35rem .8rem;border:1px solid var(--muted);border-radius:4px;background:var(--card);color:var(--fg);cursor:pointer}
main{max-width:72rem;margin:0 auto;padding:1rem}
footer{max-width:72rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.9rem;border-top:1px solid var(--line)}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.15rem;line-height:1.3;margin:0 0 .4rem}
.storylines{display:grid;grid-template-columns:1fr;gap:1rem}
@media (min-width:700px){.storylines{grid-template-columns:1fr 1fr}}
.storyline{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.9rem 1rem;min-width:0}
.storyline h2 a{color:var(--fg);text-decoration:none}.storyline h2 a:hover{text-decoration:underline}
.lead{display:flex;gap:.75rem;align-items:flex-start}
.lead p{margin:0;min-width:0}
img{max-width:100%;height:auto;border-radius:4px}
.lead img,.stories img{width:160px;height:90px;object-fit:cover;flex:none}
@media (max-width:420px){.lead{flex-direction:column}.lead img{width:100%;height:auto;aspect-ratio:16/9}}
.headline{font-size:1.05rem;overflow-wrap:anywhere}
.meta,.src,.outlets,.all{color:var(--muted);font-size:.875rem}
.src a{color:var(--muted)}
.more{margin:.5rem 0;padding-left:1.1rem}.more li{margin:.25rem 0;overflow-wrap:anywhere}
.latest{margin-top:2rem}.latest ul{padding-left:1.1rem}.latest li{margin:.3rem 0;overflow-wrap:anywhere}
.stories{list-style:none;padding:0}.stories li{display:flow-root;border-top:1px solid var(--line);padding:.8rem 0}
.stories img{float:right;margin:0 0 .5rem .75rem}
.stories h2{font-size:1rem;font-weight:600}.stories h2 .src{font-weight:400}
.stories p{margin:.25rem 0 0;overflow-wrap:anywhere}
.chart{margin:1rem 0}.chart svg{width:100%;height:auto;max-width:600px;display:block}
.chart rect{fill:var(--bar)}.chart line{stroke:var(--muted)}.chart text{fill:var(--muted);font-size:11px}
.chart figcaption{color:var(--muted);font-size:.8rem}
.group{margin:1.25rem 0}.group ul{padding-left:1.1rem}.group li{margin:.3rem 0;overflow-wrap:anywhere}
`
