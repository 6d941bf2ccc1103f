element.addEventListener('click', (event) => {
  const vote = event.target.closest('[data-feedback]');
  if (vote) {
    event.preventDefault();
    trigger('click', {feedback: vote.dataset.feedback, turn: Number(vote.dataset.turn),
                      citation: vote.dataset.citation || null});
    return;
  }
  const copy = event.target.closest('a.sanad-copy');
  if (copy) {
    event.preventDefault();
    const url = new URL(copy.getAttribute('href'), window.location.href).href;
    const show = (label) => {
      copy.textContent = label;
      setTimeout(() => { copy.textContent = 'copy link'; }, 2000);
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(url).then(() => show('copied'), () => show(url));
    } else {
      show(url);
    }
    return;
  }
  const target = event.target.closest('[data-cid]');
  if (!target) return;
  event.preventDefault();
  const cid = target.dataset.cid;
  window.sanadOpener = target;
  document.querySelectorAll('#sanad-sources li.sanad-source').forEach((li) => {
    li.classList.toggle('sanad-active', li.dataset.cid === cid);
  });
  trigger('click', {cid: cid});
});
element.addEventListener('keydown', (event) => {
  const li = event.target.closest ? event.target.closest('li.sanad-source') : null;
  if (li && event.target === li && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    li.click();
  }
});
